// audiolab listen: a "listen" toggle and a Web Audio player for the simulated service's mix (see listen.py).
// Placed before a widget's own ES module, it defines `audiolabListen.mount(model)` -> {el, dispose}.
// The kernel sends `listen_chunk` custom messages (16-bit PCM in one binary buffer) only while a view listens;
// they go into a jitter buffer played by an AudioWorklet (a ScriptProcessor where the page has no
// AudioWorklet: not a secure context). One player per model, so a view drawn again keeps playing.

const audiolabListen = (() => {
  const RATE = 24000;
  const TARGET_MS = 150; // buffered before playing starts (and again after an underrun)
  const MAX_MS = 400; // more than this buffered (a burst after a stall): fade out, skip to TARGET_MS, fade in
  // (and more than TARGET_MS + 80 ms for a whole second: the same, so a stall does not raise the latency for good)
  const FADE_MS = 5;
  const ACK_MS = 1000;
  const LINGER_MS = 2000; // a player whose every view went away stops after this (a view drawn again keeps it)

  // The jitter buffer. Self-contained (no outside names), because the worklet gets it as source text.
  function makeJitter(rate, targetMs, maxMs, fadeMs) {
    const cap = 1 << Math.ceil(Math.log2(rate * 4));
    const mask = cap - 1;
    const ring = new Float32Array(cap);
    const target = Math.round((rate * targetMs) / 1000);
    const max = Math.round((rate * maxMs) / 1000);
    const fade = Math.max(1, Math.round((rate * fadeMs) / 1000));
    const high = target + Math.round(rate * 0.08); // above this for `patience` frames: skip back to target
    const patience = rate;
    let over = 0;
    const marks = []; // [write index, seq, t0] of each chunk's first sample
    let w = 0;
    let r = 0;
    let playing = false;
    let skipping = false;
    let gain = 0;
    let underruns = 0;
    let dropped = 0;
    let played = 0;
    function forget() {
      while (marks.length && marks[0][0] < r) marks.shift();
    }
    return {
      push(pcm, seq, t0) {
        const n = pcm.length;
        if (w - r + n > cap) {
          r = w + n - cap;
          dropped += 1;
          forget();
        }
        marks.push([w, seq, t0]);
        for (let i = 0; i < n; i++) ring[(w + i) & mask] = pcm[i] / 32768;
        w += n;
      },
      // Fills `out`; `frame0` is the context frame of out[0]; each chunk that starts playing is added to `starts`
      // as [seq, t0, context frame]. The gain moves by 1/fade per sample: it reaches 0 exactly as the buffer
      // runs dry, and rises from 0 when playing starts again, so a gap never clicks.
      pull(out, frame0, starts) {
        over = playing && w - r > high ? over + out.length : 0;
        if (playing && !skipping && (w - r > max || over > patience)) skipping = true;
        for (let i = 0; i < out.length; i++) {
          if (!playing) {
            out[i] = 0;
            if (w - r >= target) playing = true;
            continue;
          }
          const avail = w - r;
          if (avail <= 0) {
            out[i] = 0;
            playing = false;
            gain = 0;
            underruns += 1;
            continue;
          }
          const down = skipping || avail < gain * fade + 1;
          gain = down ? Math.max(0, gain - 1 / fade) : Math.min(1, gain + 1 / fade);
          out[i] = ring[r & mask] * gain;
          r += 1;
          played += 1;
          while (marks.length && marks[0][0] < r) {
            const m = marks.shift();
            starts.push([m[1], m[2], frame0 + i]);
          }
          if (skipping && gain === 0) {
            r = Math.max(r, w - target);
            skipping = false;
            over = 0;
            dropped += 1;
            forget();
          }
        }
      },
      stats() {
        return { buffered: w - r, underruns, dropped, played, playing };
      },
    };
  }

  const WORKLET = `${makeJitter.toString()}
class AudiolabListen extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.jitter = makeJitter(sampleRate, o.targetMs, o.maxMs, o.fadeMs);
    this.nextReport = 0;
    this.port.onmessage = (e) => this.jitter.push(new Int16Array(e.data.pcm), e.data.seq, e.data.t0);
  }
  process(inputs, outputs) {
    const out = outputs[0];
    const starts = [];
    this.jitter.pull(out[0], currentFrame, starts);
    for (let c = 1; c < out.length; c++) out[c].set(out[0]);
    if (starts.length || currentFrame >= this.nextReport) {
      this.port.postMessage({ starts, stats: this.jitter.stats() });
      this.nextReport = currentFrame + sampleRate / 4;
    }
    return true;
  }
}
registerProcessor("audiolab-listen", AudiolabListen);
`;

  const players = new WeakMap(); // model -> Player

  class Player {
    constructor(model) {
      this.model = model;
      this.view = Math.random().toString(36).slice(2) + Date.now().toString(36);
      this.mounts = new Set();
      this.on = false;
      this.error = "";
      this.stats = { buffered: 0, underruns: 0, dropped: 0, played: 0, playing: false };
      this.latencies = []; // ms, newest last (at most 4096)
      this.chunks = 0;
      this.onMsg = (msg, buffers) => this.message(msg, buffers);
      model.on("msg:custom", this.onMsg);
    }

    // Called from the click handler: the AudioContext is created and resumed inside the user gesture.
    start() {
      if (this.on) return;
      this.on = true;
      this.error = "";
      const ctx = new AudioContext({ sampleRate: RATE, latencyHint: "interactive" });
      this.ctx = ctx;
      this.output = ctx.createGain(); // tests and tools may connect an AnalyserNode here
      this.output.connect(ctx.destination);
      void ctx.resume();
      const ready = ctx.audioWorklet ? this.worklet(ctx) : Promise.resolve(this.scriptProcessor(ctx));
      ready.then(
        () => {
          if (!this.on || this.ctx !== ctx) return;
          this.model.send({ kind: "listen", on: true, view: this.view });
          this.ackTimer = setInterval(() => this.ack(), ACK_MS);
          this.update();
        },
        (err) => this.stop(`could not start the audio player: ${err}`),
      );
      this.update();
    }

    async worklet(ctx) {
      const url = URL.createObjectURL(new Blob([WORKLET], { type: "text/javascript" }));
      try {
        await ctx.audioWorklet.addModule(url);
      } finally {
        URL.revokeObjectURL(url);
      }
      const node = new AudioWorkletNode(ctx, "audiolab-listen", {
        numberOfInputs: 0,
        outputChannelCount: [1],
        processorOptions: { targetMs: TARGET_MS, maxMs: MAX_MS, fadeMs: FADE_MS },
      });
      node.port.onmessage = (e) => this.played(e.data.starts, e.data.stats);
      node.connect(this.output);
      this.node = node;
      this.push = (pcm, seq, t0) => node.port.postMessage({ pcm, seq, t0 }, [pcm]);
    }

    scriptProcessor(ctx) {
      const jitter = makeJitter(ctx.sampleRate, TARGET_MS, MAX_MS, FADE_MS);
      const node = ctx.createScriptProcessor(1024, 0, 1);
      node.onaudioprocess = (e) => {
        const starts = [];
        jitter.pull(e.outputBuffer.getChannelData(0), Math.round(e.playbackTime * ctx.sampleRate), starts);
        this.played(starts, jitter.stats());
      };
      node.connect(this.output);
      this.node = node;
      this.push = (pcm, seq, t0) => jitter.push(new Int16Array(pcm), seq, t0);
    }

    message(msg, buffers) {
      if (!msg || typeof msg.kind !== "string" || !msg.kind.startsWith("listen_")) return;
      if (msg.kind === "listen_status") {
        if (msg.view === this.view && !msg.on && msg.error) this.stop(msg.error, false);
        return;
      }
      if (msg.kind !== "listen_chunk" || !this.on || !this.push || !buffers || !buffers.length) return;
      if (msg.rate !== this.ctx.sampleRate) {
        this.stop(`the kernel sends ${msg.rate} Hz, the player plays ${this.ctx.sampleRate} Hz`);
        return;
      }
      const b = buffers[0];
      const view = ArrayBuffer.isView(b) ? b : new DataView(b);
      this.push(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength), msg.seq, msg.t0);
      this.chunks += 1;
    }

    // A chunk's first sample reached the output at context frame f: its latency from the kernel's mix block.
    played(starts, stats) {
      this.stats = stats;
      if (!starts.length || !this.ctx) return;
      const ts = this.ctx.getOutputTimestamp();
      for (const [, t0, frame] of starts) {
        const outAt = performance.timeOrigin + ts.performanceTime + (frame / this.ctx.sampleRate - ts.contextTime) * 1000;
        this.latencies.push(outAt - t0 * 1000);
      }
      if (this.latencies.length > 4096) this.latencies.splice(0, this.latencies.length - 4096);
    }

    latency() {
      const recent = this.latencies.slice(-25).sort((a, b) => a - b);
      return recent.length ? recent[recent.length >> 1] : null;
    }

    ack() {
      const s = this.stats;
      const latency = this.latency();
      const report = { kind: "listen_ack", view: this.view, underruns: s.underruns, dropped: s.dropped,
        buffered_ms: (s.buffered / RATE) * 1000 };
      if (latency !== null) report.latency_ms = latency;
      this.model.send(report);
      this.update();
    }

    stop(error = "", tell = true) {
      const was = this.on;
      this.on = false;
      this.error = error;
      clearInterval(this.ackTimer);
      if (this.node) this.node.disconnect();
      if (this.ctx) void this.ctx.close();
      this.node = this.ctx = this.push = null;
      if (was && tell) this.model.send({ kind: "listen", on: false, view: this.view });
      this.update();
    }

    update() {
      for (const m of this.mounts) m.update();
    }
  }

  function mount(model) {
    let player = players.get(model);
    if (!player) {
      player = new Player(model);
      players.set(model, player);
    }
    clearTimeout(player.lingerTimer);
    const el = document.createElement("span");
    el.className = "al-listen";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "al-listen-button";
    const note = document.createElement("span");
    note.className = "al-listen-note";
    el.append(button, note);
    el.audiolabPlayer = player; // for tests and tools: the player, its output node and its figures
    const m = {
      update() {
        const p = player;
        button.textContent = p.on ? "\u266A Listening" : "\u266A Listen";
        button.setAttribute("aria-pressed", String(p.on));
        button.title = p.on ? "Stop playing the mix in this browser" : "Play the simulated service's mix in this browser";
        el.classList.toggle("al-on", p.on);
        el.dataset.underruns = String(p.stats.underruns);
        const latency = p.latency();
        note.textContent = p.error
          ? p.error
          : p.on
            ? `${Math.round((p.stats.buffered / RATE) * 1000)} ms buffered` +
              (latency === null ? "" : ` \u00B7 ${Math.round(latency)} ms latency`) +
              (p.stats.underruns ? ` \u00B7 ${p.stats.underruns} underruns` : "")
            : "";
        note.classList.toggle("al-listen-error", Boolean(p.error));
      },
    };
    player.mounts.add(m);
    button.addEventListener("click", () => (player.on ? player.stop() : player.start()));
    m.update();
    return {
      el,
      dispose() {
        player.mounts.delete(m);
        if (!player.mounts.size) {
          player.lingerTimer = setTimeout(() => {
            if (!player.mounts.size) {
              player.stop();
              model.off("msg:custom", player.onMsg);
              players.delete(model);
            }
          }, LINGER_MS);
        }
      },
    };
  }

  return { mount, makeJitter };
})();
