// A WebSocket that comes back: after a drop it reconnects with a growing delay and says
// so; `onOpen` runs on every (re)connection once the node says it listens ("ready"), so
// the page can fetch what it missed and lose nothing in between.

export class LiveSocket {
  constructor(url, { onEvent, onOpen = () => {}, onState = () => {}, onEnd = () => {} }) {
    Object.assign(this, { url, onEvent, onOpen, onState, onEnd });
    this.delay = 500;
    this.stopped = false;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => { this.delay = 500; this.onState("open"); };
    socket.onmessage = (message) => {
      try {
        const event = JSON.parse(message.data);
        // "ready": the node's subscription is in place, so what the page fetches now (the
        // messages so far, the agent's state) misses nothing the socket will not bring
        if (event.type === "ready") this.onOpen(); else this.onEvent(event);
      } catch (failure) { console.error(failure); }
    };
    socket.onclose = (closed) => {
      if (this.socket !== socket) return;
      // 4001: the session ended; 4003: the reader may no longer watch this contact (it
      // went to someone else); 403/404 answers close before opening: give up after a few.
      if (this.stopped || closed.code === 4001 || closed.code === 4003) {
        this.stopped = true; this.onEnd(closed.code); return;
      }
      this.onState("reconnecting");
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  send(data) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(data));
  }

  close() {
    this.stopped = true;
    if (this.socket) this.socket.close();
  }
}
