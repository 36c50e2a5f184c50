// balcao's device check: browser support, camera preview, microphone level, a test tone
// made here with WebAudio (nothing is fetched from elsewhere), and the round trip and
// throughput to this server. Results go to role="status" lines, as text.

const $ = (id) => document.getElementById(id);
const cfg = JSON.parse($('check-config').textContent);
const t = (key, ...args) => {
  let i = 0;
  return (cfg.text[key] || key).replace(/%[sd]/g, () => String(args[i++] ?? ''));
};
const lang = document.documentElement.lang || 'pt-PT';
const num = (v, digits) => v.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });

// What the tests read.
const results = (window.balcaoCheck = { support: {}, camera: false, micPeak: 0, tone: false, net: null });

// Browser support.
{
  const md = navigator.mediaDevices;
  const s = results.support;
  s.media = !!(md && md.getUserMedia);
  s.rtc = typeof RTCPeerConnection === 'function';
  s.share = !!(md && md.getDisplayMedia);
  for (const [k, v] of Object.entries(s)) document.querySelector(`[data-support="${k}"]`).textContent = t(v ? 'check.yes' : 'check.no');
  $('support-result').textContent = t(!s.media || !s.rtc ? 'check.support.missing' : s.share ? 'check.support.all' : 'check.support.share_missing');
}

// Camera and microphone.
let stream = null;
$('test-camera').addEventListener('click', async () => {
  if (stream) return;
  // Made in the click itself: Safari keeps an audio context made after an await suspended.
  const ctx = new AudioContext();
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (err) {
    console.warn('check: getUserMedia', err);
    $('camera-result').textContent = t('check.camera.error');
    ctx.close();
    return;
  }
  $('camera-preview').srcObject = stream;
  $('camera-box').hidden = false;
  results.camera = stream.getVideoTracks().length > 0;
  $('camera-result').textContent = t(results.camera ? 'check.camera.ok' : 'check.camera.error');
  if (!stream.getAudioTracks().length) {
    $('mic-result').textContent = t('check.mic.error');
    ctx.close();
    return;
  }
  ctx.resume().catch(() => {}); // not awaited: with no sound device it may never settle
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const started = performance.now();
  let told = false;
  const tick = () => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const level = Math.min(1, Math.sqrt(sum / buf.length) * 4);
    $('mic-level').value = level;
    results.micPeak = Math.max(results.micPeak, level);
    if (!told && (results.micPeak > 0.05 || performance.now() - started > 4000)) {
      told = true;
      $('mic-result').textContent = t(results.micPeak > 0.05 ? 'check.mic.ok' : 'check.mic.quiet');
    }
    // A timer rather than animation frames: it keeps measuring in a background tab too.
    setTimeout(tick, 100);
  };
  tick();
});

// Speakers: three short notes, made here.
$('test-speaker').addEventListener('click', async () => {
  const ctx = new AudioContext();
  await ctx.resume();
  $('speaker-result').textContent = t('check.speaker.playing');
  const start = ctx.currentTime + 0.05;
  [523.25, 659.25, 783.99].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    const at = start + i * 0.35;
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.3, at + 0.02);
    gain.gain.linearRampToValueAtTime(0, at + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.32);
    if (i === 2) {
      osc.onended = () => {
        results.tone = true;
        $('speaker-result').textContent = t('check.speaker.done');
        ctx.close();
      };
    }
  });
});

// The connection to this server: round trip, then download and upload of cfg.bytes.
async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure() {
  const rtts = [];
  for (let i = 0; i < 6; i++) {
    rtts.push(await timed(() => fetch(cfg.ping, { cache: 'no-store' })));
  }
  rtts.shift(); // the first one also opens the connection
  rtts.sort((a, b) => a - b);
  const rtt = rtts[Math.floor(rtts.length / 2)];
  let got = 0;
  const down = await timed(async () => {
    const resp = await fetch(cfg.download, { cache: 'no-store' });
    if (!resp.ok) throw new Error('download ' + resp.status);
    got = (await resp.arrayBuffer()).byteLength;
  });
  const body = new Uint8Array(cfg.bytes);
  for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
  const up = await timed(async () => {
    const resp = await fetch(cfg.upload, { method: 'POST', body, cache: 'no-store', headers: { 'Content-Type': 'application/octet-stream' } });
    if (!resp.ok) throw new Error('upload ' + resp.status);
  });
  // Mbit/s; the round trip is taken off each transfer, which is mostly one exchange.
  const rate = (bytes, ms) => (bytes * 8) / (Math.max(ms - rtt, 1) * 1000);
  return { rtt, down: rate(got, down), up: rate(cfg.bytes, up) };
}

$('test-net').addEventListener('click', async (e) => {
  const button = e.currentTarget;
  button.disabled = true;
  $('net-result').textContent = t('check.net.running');
  $('net-verdict').textContent = '';
  try {
    const n = await measure();
    const verdict = n.down >= 1.5 && n.up >= 1 && n.rtt < 250 ? 'good' : n.down >= 0.4 && n.up >= 0.3 && n.rtt < 600 ? 'fair' : 'poor';
    results.net = { ...n, verdict };
    $('net-result').textContent = t('check.net.result', num(Math.round(n.rtt), 0), num(n.down, 1), num(n.up, 1));
    $('net-verdict').textContent = t('check.net.' + verdict);
  } catch (err) {
    console.warn('check: network', err);
    $('net-result').textContent = t('check.net.error');
  }
  button.disabled = false;
});
