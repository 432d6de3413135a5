// audiolab listen: a "listen" toggle and a Web Audio player for the simulated service's mix (see listen.py).
// Placed before a widget's own ES module, it defines `audiolabListen.mount(model)` -> {el, dispose}.
// The kernel sends `listen_chunk` custom messages (16-bit PCM in one binary buffer) only while a view listens;
// they go into a jitter buffer played by an AudioWorklet (a ScriptProcessor where the page has no
// AudioWorklet: not a secure context). One player per model, so a view drawn again keeps playing.

const audiolabListen = (() => {
  const RATE = 24000;
  // The jitter buffer's rules (makeJitter): over the last 20 s but their worst stall, keep 20 ms to spare
  // (100 ms until anything is known); a surplus (once 5 s are known) goes 20 ms a second, past 400 ms at once.
  const JITTER = { startMs: 100, marginMs: 20, windowS: 20, budget: 1, steadyS: 5, shrinkMs: 20, maxMs: 400, fadeMs: 5 };
  const ACK_MS = 1000;
  const LINGER_MS = 2000; // a player whose every view went away stops after this (a view drawn again keeps it)

  // The jitter buffer. Self-contained (no outside names), because the worklet gets it as source text.
  // Adaptive, as the jitter buffers of voice calls are (WebRTC's NetEq), sized from what arrived lately:
  // - its "low" of each second is the least it held in that second (how early the latest chunk came);
  // - the lows of the last o.windowS seconds, all but the o.budget lowest (the worst stalls, which may
  //   underrun), should stay at o.marginMs or more: what is above (once o.steadyS seconds are known) is
  //   spliced out, at most o.shrinkMs a second; after an underrun, playing resumes as soon as that holds again, from
  //   the newest audio (a stall's backlog comes in a burst; what it skips would be late anyway);
  // - before any low is known it starts at o.startMs; past o.maxMs buffered it splices the excess at once.
  // A splice jumps ahead by the length, within a 10 ms search, whose next 5 ms best match the audio it leaves
  // (a whole number of periods of a tone) and crossfades the two over those 5 ms: no gap, no click. An
  // underrun fades out as the buffer runs dry and in again when it resumes.
  function makeJitter(rate, o) {
    const ms = (x) => Math.round((rate * x) / 1000);
    const cap = 1 << Math.ceil(Math.log2(rate * 4));
    const mask = cap - 1;
    const ring = new Float32Array(cap);
    const fade = Math.max(1, ms(o.fadeMs));
    const xfLen = Math.max(1, ms(5));
    const search = ms(10);
    const [margin, start, max, shrink, hysteresis] = [ms(o.marginMs), ms(o.startMs), ms(o.maxMs), ms(o.shrinkMs), ms(10)];
    const marks = []; // [write index, seq, t0] of each chunk's first sample
    let w = 0;
    let r = 0;
    let chunk = 0; // frames in the newest chunk
    let playing = false;
    let gain = 0;
    let underruns = 0;
    let dropped = 0;
    let played = 0;
    let low = Infinity; // the least buffered in this second
    let lows = []; // ... in each of the last o.windowS seconds
    let second = 0; // frames played in this second
    let gap = 0; // frames of silence since the underrun
    let rest = 0; // no shrinking splice before this many frames have played (one a second)
    let xa = 0; // crossfading: where the audio left behind is read
    let xn = 0; // frames of the crossfade still to play
    function forget() {
      while (marks.length && marks[0][0] < r) marks.shift();
    }
    // The k-th lowest of `seq` (in time order), a stall that spans two seconds counted once; null if empty.
    function lowest(seq, k) {
      const all = [];
      for (const x of seq) {
        if (all.length && x < margin && all[all.length - 1] < margin) all[all.length - 1] = Math.min(all[all.length - 1], x);
        else all.push(x);
      }
      all.sort((a, b) => a - b);
      return all.length ? all[Math.min(k, all.length - 1)] : null;
    }
    // What the buffer must keep above the margin: the lows (and this second's) but the o.budget lowest.
    function slack() {
      return lowest(low === Infinity ? lows : [...lows, low], o.budget);
    }
    function shift(d) {
      lows = lows.map((x) => x + d);
      if (low !== Infinity) low += d;
    }
    // Drop about `d` frames at the read position: the jump in [d - search, d] whose next xfLen frames best
    // correlate with the xfLen frames at r (silence: any), then crossfade from the old audio to the new.
    function splice(d) {
      let best = d;
      let score = -Infinity;
      let e0 = 0;
      for (let i = 0; i < xfLen; i++) e0 += ring[(r + i) & mask] ** 2;
      for (let k = Math.max(1, d - search); k <= d; k++) {
        let dot = 0;
        let e1 = 0;
        for (let i = 0; i < xfLen; i++) {
          const b = ring[(r + k + i) & mask];
          dot += ring[(r + i) & mask] * b;
          e1 += b * b;
        }
        const s = e0 * e1 > 1e-12 ? dot / Math.sqrt(e0 * e1) : 0;
        if (s > score) [score, best] = [s, k];
      }
      xa = r;
      xn = xfLen;
      r += best;
      dropped += 1;
      rest = played + rate;
      forget();
      shift(-best);
    }
    // Not playing: start (or resume after an underrun) once enough is buffered, from the newest audio. The
    // underrun is a stall the buffer could not hide (it takes one of the budget's places); the other lows of
    // the window, with the `gap` of silence added to the latency, must keep the margin.
    function resume() {
      const avail = w - r;
      if (!chunk || avail < margin + chunk) return false;
      let skip;
      if (!underruns) {
        if (avail < start + chunk) return false;
        skip = avail - start - chunk;
      } else {
        const others = lows.length && lows[lows.length - 1] < margin ? lows.slice(0, -1) : lows; // its drain
        const s = lowest(others, Math.max(0, o.budget - 1));
        const room = s === null ? Infinity : s + gap - margin;
        if (room < 0) return false; // the last seconds say: wait for more
        skip = Math.min(avail - margin - chunk, room);
      }
      if (skip > 0) {
        r += skip;
        dropped += 1;
        forget();
      }
      if (underruns) {
        shift(gap - skip);
        low = -skip; // the stall, had it come with this latency
      }
      gap = 0;
      return true;
    }
    return {
      push(pcm, seq, t0) {
        const n = pcm.length;
        if (w - r + n > cap) {
          r = w + n - cap;
          xn = 0;
          dropped += 1;
          forget();
        }
        marks.push([w, seq, t0]);
        for (let i = 0; i < n; i++) ring[(w + i) & mask] = pcm[i] / 32768;
        w += n;
        chunk = n;
      },
      // Fills `out`; `frame0` is the context frame of out[0]; each chunk that starts playing is added to `starts`
      // as [seq, t0, context frame]. The gain moves by 1/fade per sample: it reaches 0 exactly as the buffer
      // runs dry, and rises from 0 when playing starts again, so a gap never clicks.
      pull(out, frame0, starts) {
        if (playing && xn === 0) {
          const avail = w - r;
          const s = slack();
          if (avail > max) splice(avail - margin - chunk);
          else if (lows.length >= o.steadyS && played >= rest && s - margin > hysteresis && avail - xfLen > s - margin) {
            splice(Math.min(s - margin, shrink));
          }
        }
        for (let i = 0; i < out.length; i++) {
          if (!playing) {
            out[i] = 0;
            if (underruns) gap += 1;
            playing = resume();
            continue;
          }
          const avail = w - r;
          if (avail <= 0) {
            out[i] = 0;
            playing = false;
            gain = 0;
            xn = 0;
            underruns += 1;
            low = 0;
            continue;
          }
          if (avail < low) low = avail;
          const down = avail < gain * fade + 1;
          gain = down ? Math.max(0, gain - 1 / fade) : Math.min(1, gain + 1 / fade);
          let x = ring[r & mask];
          if (xn > 0) {
            const f = xn / (xfLen + 1);
            x = ring[xa & mask] * f + x * (1 - f);
            xa += 1;
            xn -= 1;
          }
          out[i] = x * gain;
          r += 1;
          played += 1;
          while (marks.length && marks[0][0] < r) {
            const m = marks.shift();
            starts.push([m[1], m[2], frame0 + i]);
          }
          if (++second >= rate) {
            lows.push(low);
            if (lows.length > o.windowS) lows.shift();
            low = Infinity;
            second = 0;
          }
        }
      },
      stats() {
        return { buffered: w - r, underruns, dropped, played, playing, slack: slack() };
      },
    };
  }

  const WORKLET = `${makeJitter.toString()}
class AudiolabListen extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.jitter = makeJitter(sampleRate, options.processorOptions);
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
      this.stats = { buffered: 0, underruns: 0, dropped: 0, played: 0, playing: false, slack: null };
      this.latencies = []; // ms, newest last (at most 8192)
      this.arrivals = []; // ms from each chunk's first sample in the mix to its arrival in the page (at most 8192)
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
        processorOptions: JITTER,
      });
      node.port.onmessage = (e) => this.played(e.data.starts, e.data.stats);
      node.connect(this.output);
      this.node = node;
      this.push = (pcm, seq, t0) => node.port.postMessage({ pcm, seq, t0 }, [pcm]);
    }

    scriptProcessor(ctx) {
      const jitter = makeJitter(ctx.sampleRate, JITTER);
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
      this.arrivals.push(performance.timeOrigin + performance.now() - msg.t0 * 1000);
      if (this.arrivals.length > 8192) this.arrivals.splice(0, this.arrivals.length - 8192);
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
      if (this.latencies.length > 8192) this.latencies.splice(0, this.latencies.length - 8192);
    }

    latency() {
      const recent = this.latencies.slice(-50).sort((a, b) => a - b);
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

  return { mount, makeJitter, JITTER };
})();
