// Why a contact was offered to this agent, in words, from the routing decision's line:
// "contact routed: step=exact strategy=longest_idle languages=es regions=default
//  min_proficiency=1 -> ana among 3 candidates [ana,...]"

import { languageName, number, primary, t } from "./i18n.js";

function fields(line) {
  const found = {};
  for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) found[key] = value;
  const among = line.match(/among (\d+) candidates/);
  found.candidates = among ? Number(among[1]) : 1;
  found.freed = line.startsWith("agent freed");
  return found;
}

function stepText(step, f) {
  const languages = (f.languages || "").split("|").filter(Boolean).map(languageName).join(", ");
  const regions = (f.regions || "").split("|").filter(Boolean).join(", ");
  switch (step) {
    case "exact": return t("An exact match: you speak {languages} and work in {regions}.", { languages, regions });
    case "language": return t("No agent of the customer's language was free, so other languages were allowed ({languages}).", { languages });
    case "region": return t("The customer waited long, so other regions were allowed ({regions}).", { regions });
    case "region_ewt": return t("The predicted wait in the customer's region was long, so other regions were allowed.");
    case "proficiency": return t("The customer waited long, so a lower skill level was allowed (at least {level}).", { level: number(Number(f.min_proficiency)) });
    case "translation": return t("Nobody free speaks the customer's language: messages are translated for you.");
    case "preferred": return t("It was transferred to you by name.");
    default: return "";
  }
}

// The count in the viewer's digits; one agent who fit is said so whatever the strategy
// ("the only agent", never "among 1 agents": the page catalogs have no plural forms).
function strategyText(strategy, candidates) {
  const known = ["longest_idle", "most_skilled", "round_robin", "least_occupied"].includes(strategy);
  if (known && candidates === 1) return t("You were the only agent who fit.");
  const count = number(candidates);
  switch (strategy) {
    case "longest_idle": return t("You had been free the longest of {count} agents who fit.", { count });
    case "most_skilled": return t("You are the most skilled of {count} agents who fit.", { count });
    case "round_robin": return t("It was your turn among {count} agents who fit.", { count });
    case "least_occupied": return t("You were the least busy of {count} agents who fit.", { count });
    default: return "";
  }
}


// The step a contact had reached says what routing allowed, not what this agent needed:
// an agent who speaks the customer's language (and, past the region step, works in the
// customer's region) matched as exactly as at the first step, whatever was allowed then:
// other languages, other regions (after a wait, or a long predicted wait), any skill
// level (the proficiency step: the desk knows neither the queue's level nor its skill,
// and says what it knows). Past the translation step such an agent reads the customer
// untranslated: never told "translated for you" (only the other region, if theirs is
// not the customer's).
function stepFor(f, offer, agent) {
  const speaks = (agent.languages || []).map(primary).includes(primary(offer.language));
  const home = !offer.region || agent.region === offer.region;
  if (f.step === "language" && speaks) return "exact";
  if (["region", "region_ewt", "proficiency"].includes(f.step) && speaks && home) return "exact";
  if (f.step === "translation" && speaks) return home ? "exact" : "region";
  return f.step;
}

// Why `offer` (its decision line, the customer's language and region) came to `agent`
// (their languages and region; {} when unknown: the step's words alone).
export function explain(line, offer = {}, agent = {}) {
  if (!line) return "";
  const f = fields(line);
  const step = stepFor(f, offer, agent);
  if (step !== f.step) f.languages = primary(offer.language);
  if (step === "exact" && step !== f.step) f.regions = offer.region || f.regions;
  const parts = [stepText(step, f)];
  parts.push(f.freed ? t("You became free while it was waiting.") : strategyText(f.strategy, f.candidates));
  return parts.filter(Boolean).join(" ");
}
