// What a chat message may be, checked as the API checks it (switchboard/common/readable.py
// `readable`, MAX_MESSAGE_CHARS) before it is sent: one check for the customer's page
// and the agent's desk, in the page's language.

import { number, t } from "./i18n.js";

const MAX_CHARS = 4000;  // as the API (router/chat.py MAX_MESSAGE_CHARS), in code points
// What the API (switchboard/common/readable.py `readable`) takes as nothing to read: separators,
// format marks and controls (Z, Cf, Cc), and its BLANK list, mirrored here (keep the two
// the same): characters that draw nothing though filed as letters, marks or symbols
// (Hangul fillers, the Braille blank, variation selectors, the grapheme joiner, Khmer
// inherent vowels).
const NOTHING_TO_READ =
  /^[\p{Z}\p{Cf}\p{Cc}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180D\u180F\u2800\u3164\uFE00-\uFE0F\uFFA0\u{E0100}-\u{E01EF}]*$/u;
// A control character but line breaks and tabs, or a lone surrogate (not Unicode): the API
// refuses both.
const UNSENDABLE = /(?![\n\r\t])\p{Cc}|\p{Cs}/u;

// What is wrong with a message before it is sent, or null: what the API would refuse,
// checked before a chat is started for it. Characters are counted as the API counts
// them, by code point (an emoji is one, not two UTF-16 units).
export function checkMessage(text) {
  if (!text.trim()) return t("Please write a message first.");
  if (UNSENDABLE.test(text)) {
    return t("Your message has a character that cannot be sent (a control character). Please remove it.");
  }
  if (NOTHING_TO_READ.test(text)) {
    return t("Your message has nothing to read: only blank or invisible characters. Please write some text.");
  }
  const count = [...text].length;
  if (count > MAX_CHARS) {
    return t("Your message is too long: {count} characters, at most {max}. Please shorten it.",
      { count: number(count), max: number(MAX_CHARS) });
  }
  return null;
}
