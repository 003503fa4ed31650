// Sending what a reply box holds, one message at a time: the customer's page and the
// agent's desk alike. The text stays in the box until the server has it (a failure
// keeps it, to be sent again as it is with the same client_message_id); then only the
// text sent leaves the box, and what was typed meanwhile stays. A send asked while a
// message is on its way (Enter pressed again) waits for its answer, then sends what the
// box holds by then: the messages go in order, a text is never sent twice, and a box
// emptied by a message that was sent is never "write a message first".

import { Outgoing } from "./api.js";
import { checkMessage } from "./message-text.js";

// What stays in the box once `sent` reached the server: what was typed after it when
// the box still begins with it (the box held exactly `sent`: nothing), else the box as
// it is (the text was changed or replaced meanwhile: the writer's own).
export function unsent(box, sent) {
  return box.startsWith(sent) ? box.slice(sent.length).replace(/^\s+/, "") : box;
}

export class MessageSender {
  // `box` the textarea; `post(text, clientMessageId)` the API's answer; `delivered(message)`
  // shows the message the server kept; `problem(answer)` and `report(text)` say why it was
  // not sent ("" clears); `busy(sending)` while a message is on its way.
  constructor(box, { post, delivered, problem, report, busy = () => {} }) {
    Object.assign(this, { box, post, delivered, problem, report, busy });
    this.outgoing = new Outgoing();
    this.sending = false;
    this.again = false;
  }

  async send() {
    if (this.sending) { this.again = true; return; }
    this.report("");
    const text = this.box.value;
    const wrong = checkMessage(text);
    if (wrong) { this.report(wrong); this.box.focus(); return; }
    this.sending = true;
    this.busy(true);
    const answer = await this.post(text, this.outgoing.idFor(text));  // a retry: the same id
    this.sending = false;
    this.busy(false);
    const again = this.again;
    this.again = false;
    if (!answer.ok) { this.report(this.problem(answer)); return; }
    this.outgoing.sent();
    this.box.value = unsent(this.box.value, text);
    this.delivered(answer.body);
    if (again && this.box.value.trim()) await this.send();
  }
}
