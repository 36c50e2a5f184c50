// balcao's call page, for the citizen and an invited interpreter (lobby, then the call)
// and for the agency's staff (admit, then the call). Signalling goes over one WebSocket
// (see package call for the messages); media goes through the server's SFU in one
// RTCPeerConnection. Nothing is recorded, here or on the server.
//
// Negotiation follows the W3C "perfect negotiation" pattern
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example) with the browser as the
// POLITE peer: a server offer is always accepted (it rolls back an offer of ours), and an
// offer of ours that the server dropped ("glare") is made again once stable.
//
// Resilience: ICE restarts when ICE reports "disconnected" and does not come back
// within a second (and again every few seconds while it lasts), not after "failed"; the
// WebSocket reconnects with a short, capped back-off, each time with a new
// RTCPeerConnection, which replaces the old one in the SFU.

const $ = (id) => document.getElementById(id);
const cfg = JSON.parse($('call-config').textContent);
const t = (key, ...args) => {
  let i = 0;
  return (cfg.text[key] || key).replace(/%[sd]/g, () => String(args[i++] ?? ''));
};
// An invited guest's token is the link's fragment: it never reaches a server log.
const token = cfg.token || decodeURIComponent(location.hash.slice(1));
const waits = !cfg.staff; // citizens and invited guests wait in the lobby

const RESTART_AFTER = 1000; // ms of "disconnected" before an ICE restart
const RESTART_EVERY = 5000; // ms between ICE restarts while it lasts
const QUALITY_EVERY = 2000; // ms between quality reports
const BACKOFF_MIN = 250;
const BACKOFF_MAX = 2000;

let ws = null;
let backoff = BACKOFF_MIN;
let retryTimer = 0;
let stopped = false;
let openedAt = Date.now();
let self = null;
let members = [];
let admitted = false;

let pc = null;
let camera = null; // the camera and microphone as getUserMedia gives them
let outgoing = null; // what is sent: the camera (with the agent's card) and the microphone
let preparing = null; // the promise of getting them
let cardStop = null;
let screenStream = null;
let screenSender = null;
const sourceOfTrack = new Map(); // MediaStreamTrack.id → "audio" | "camera" | "screen"
let remoteTracks = []; // the last "tracks" event: [{mid, participantId, source, kind}]
let needOffer = false;
let restartTimer = 0;

// Every incoming message and every offer of ours runs in turn, so that the
// RTCPeerConnection never sees two descriptions at once.
let chain = Promise.resolve();
const serial = (fn) => {
  chain = chain.then(fn).catch((err) => console.warn('call:', err));
  return chain;
};

// A small hook for tests and for support.
window.balcaoCall = {
  get pc() { return pc; },
  get tracks() { return remoteTracks; },
  get admitted() { return admitted; },
  get members() { return members; },
  get ws() { return ws; },
  marks: {}, // performance.now() of the steps of set-up, for the benchmarks
  log: [], // the last connection events, for support
};
const note = (what) => {
  const log = window.balcaoCall.log;
  log.push(Math.round(performance.now()) + ' ' + what);
  if (log.length > 100) log.shift();
};
const mark = (name) => { if (!(name in window.balcaoCall.marks)) window.balcaoCall.marks[name] = performance.now(); };

function status(text) {
  $('call-status').textContent = text;
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function connect() {
  clearTimeout(retryTimer);
  if (stopped) return;
  if (!token) {
    stop(t('call.status.expired'));
    return;
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const sock = new WebSocket(proto + '//' + location.host + cfg.ws);
  ws = sock;
  sock.onopen = () => sock.send(JSON.stringify({ type: 'hello', token }));
  sock.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'welcome') backoff = BACKOFF_MIN;
    if (msg.type !== 'candidate' && msg.type !== 'quality') note('ws ' + msg.type);
    serial(() => handle(msg));
  };
  sock.onclose = (e) => {
    note('ws closed ' + e.code);
    if (ws !== sock) return;
    ws = null;
    serial(closePeer);
    if (stopped) return;
    if (e.code === 1008) {
      // The token is refused: expired or forged. A page with its own token makes a
      // new one when reloaded; an invitation link cannot.
      if (cfg.token && Date.now() - openedAt > 10000) location.reload();
      else stop(t('call.status.expired'));
      return;
    }
    status(t('call.status.reconnecting'));
    retryTimer = setTimeout(connect, backoff + Math.random() * 100);
    backoff = Math.min(backoff * 2, BACKOFF_MAX);
  };
}

async function handle(msg) {
  switch (msg.type) {
    case 'welcome':
      self = msg.self;
      cfg.iceServers = msg.iceServers || [];
      members = msg.members || [];
      $('chat-log').replaceChildren();
      if (self.state === 'admitted') await startCall(msg.chat);
      else showLobby();
      break;
    case 'presence':
      members = msg.members || [];
      showPresence();
      break;
    case 'admitted':
      mark('admitted');
      await startCall(msg.chat);
      break;
    case 'offer':
      await onServerOffer(msg.sdp);
      break;
    case 'answer':
      if (pc && pc.signalingState === 'have-local-offer') {
        await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      }
      if (needOffer) await makeOffer(false);
      break;
    case 'candidate':
      if (pc && msg.candidate) await pc.addIceCandidate(msg.candidate).catch(() => {});
      break;
    case 'glare':
      needOffer = true; // the server's offer was answered first: offer again
      if (pc && pc.signalingState === 'stable') await makeOffer(false);
      break;
    case 'event':
      onEvent(msg.event);
      break;
    case 'chat':
      addChat(msg.message);
      break;
    case 'quality':
      showQuality(msg.from, msg.quality);
      break;
    case 'ended':
    case 'left':
    case 'replaced':
      stop(t('call.status.' + msg.type));
      break;
    case 'chat_kept':
      if ($('chat-kept')) $('chat-kept').textContent = t('call.chat.kept', msg.count);
      else chatNotice(t('call.chat.kept_notice'));
      break;
    case 'error':
      console.warn('call: server error', msg.code);
      if ((msg.code === 'keep_refused' || msg.code === 'keep_failed') && $('chat-kept')) {
        $('chat-kept').textContent = t('call.chat.keep_failed');
      }
      break;
  }
}

function member(id) {
  return members.find((x) => x.id === id);
}

function nameOf(id) {
  const m = member(id);
  if (!m) return id;
  return m.name || t('call.role.' + m.role);
}

function showLobby() {
  admitted = false;
  if ($('lobby')) $('lobby').hidden = false;
  showPresence();
}

function showPresence() {
  const staffHere = members.some((m) => m.staff && m.online);
  if (waits) {
    if (!admitted) status(t(staffHere ? 'call.status.lobby_staff' : 'call.status.lobby_alone'));
    else if (!staffHere) status(t('call.status.staff_gone'));
    else status(t('call.status.in_call'));
    return;
  }
  const list = $('waiting');
  list.replaceChildren();
  const waiting = members.filter((m) => !m.staff && m.state === 'lobby' && m.online);
  for (const m of waiting) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = nameOf(m.id) + (m.role === 'citizen' ? '' : ' (' + t('call.role.' + m.role) + ')');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'admit';
    button.dataset.participant = m.id;
    button.textContent = t('call.admit', nameOf(m.id));
    button.addEventListener('click', () => {
      button.disabled = true;
      send({ type: 'admit', participant: m.id });
    });
    li.append(name, button);
    list.append(li);
  }
  const inCall = members.some((m) => m.role === 'citizen' && m.state === 'admitted' && m.online);
  if (waiting.length) status(t('call.status.waiting', waiting.map((m) => nameOf(m.id)).join(', ')));
  else if (inCall) status(t('call.status.citizen_in'));
  else status(t('call.status.nobody_waiting'));
  for (const row of [...$('quality-rows').children]) {
    const m = member(row.dataset.participant);
    if (row.dataset.participant !== 'self' && (!m || !m.online || m.state !== 'admitted')) row.remove();
  }
}

// prepareMedia asks for the camera and microphone once; in the lobby it runs when the
// citizen asks for it (or the browser already has their permission), so that being
// admitted only starts the connection.
function prepareMedia() {
  if (!preparing) {
    preparing = (async () => {
      mark('media-start');
      try {
        camera = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
          video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25 } },
        });
      } catch (err) {
        console.warn('call: getUserMedia', err);
        preparing = null;
        status(t('call.status.media_error'));
        return;
      }
      outgoing = camera;
      if (cfg.card && cfg.cardModule) {
        try {
          const { withCard } = await import(cfg.cardModule);
          const carded = withCard(camera, cfg.card);
          outgoing = carded.stream;
          cardStop = carded.stop;
          $('local-video').classList.add('card'); // text reads the right way round
        } catch (err) {
          console.warn('call: identification card', err);
        }
      }
      for (const tr of outgoing.getTracks()) sourceOfTrack.set(tr.id, tr.kind === 'audio' ? 'audio' : 'camera');
      $('local-video').srcObject = outgoing;
      if ($('preview')) {
        $('preview').srcObject = outgoing;
        $('preview-box').hidden = false;
        $('prepare').hidden = true;
        if (!admitted) $('lobby-media').textContent = t('call.lobby.ready');
      }
      mark('media-ready');
    })();
  }
  return preparing;
}

async function startCall(chat) {
  admitted = true;
  if ($('lobby')) $('lobby').hidden = true;
  $('stage').hidden = false;
  $('chat').hidden = false;
  $('chat-log').replaceChildren();
  for (const m of chat || []) addChat(m);
  if (waits) status(t('call.status.starting'));
  await prepareMedia();
  if (!admitted || stopped) return;
  newPeer();
  showPresence();
}

function newPeer() {
  closePeer();
  pc = new RTCPeerConnection({ iceServers: cfg.iceServers || [], bundlePolicy: 'max-bundle' });
  const peer = pc;
  needOffer = false;
  lastSample = null;
  // addTransceiver, never addTrack: addTrack could take over one of the server's
  // m-lines, which carry the others' media.
  if (outgoing) {
    for (const tr of outgoing.getTracks()) peer.addTransceiver(tr, { direction: 'sendonly', streams: [outgoing] });
  } else {
    peer.addTransceiver('audio', { direction: 'recvonly' });
  }
  if (screenStream) {
    const tr = screenStream.getVideoTracks()[0];
    screenSender = peer.addTransceiver(tr, { direction: 'sendonly', streams: [screenStream] }).sender;
  }
  peer.onicecandidate = (e) => {
    if (e.candidate && peer === pc) send({ type: 'candidate', candidate: e.candidate.toJSON() });
  };
  peer.onnegotiationneeded = () => serial(() => (peer === pc ? makeOffer(false) : null));
  peer.ontrack = (e) => onRemoteTrack(e);
  peer.oniceconnectionstatechange = () => {
    if (peer !== pc) return;
    const state = peer.iceConnectionState;
    note('ice ' + state);
    if (state === 'connected' || state === 'completed') mark('ice-connected');
    clearTimeout(restartTimer);
    // Chrome says "disconnected" after about 5 s without answers, and often comes back
    // on its own a moment later when the network does: restart only if it does not.
    // (A restart makes the server drop the pair that works and start anew.)
    if (state === 'disconnected') restartTimer = setTimeout(() => restartICE(peer), RESTART_AFTER);
    else if (state === 'failed') restartICE(peer);
  };
}

// restartICE offers with new ICE credentials, and again every RESTART_EVERY while ICE
// stays down (the answer never came: the offer went with the network).
function restartICE(peer) {
  const state = peer.iceConnectionState;
  if (peer !== pc || (state !== 'disconnected' && state !== 'failed')) return;
  serial(() => (peer === pc ? makeOffer(true) : null));
  restartTimer = setTimeout(() => restartICE(peer), RESTART_EVERY);
}

function closePeer() {
  clearTimeout(restartTimer);
  if (!pc) return;
  const old = pc;
  pc = null;
  old.close();
  screenSender = null;
  remoteTracks = [];
  $('remote').replaceChildren();
  $('remote').dataset.count = '0';
}

// sources maps our m-lines' mids to what they carry, for the SFU.
function sources() {
  const out = {};
  for (const tr of pc.getTransceivers()) {
    const track = tr.sender.track;
    if (tr.mid && track && sourceOfTrack.has(track.id)) out[tr.mid] = sourceOfTrack.get(track.id);
  }
  return out;
}

async function makeOffer(iceRestart) {
  if (!pc) return;
  if (pc.signalingState !== 'stable') {
    needOffer = true;
    return;
  }
  needOffer = false;
  if (iceRestart) {
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
  } else {
    await pc.setLocalDescription();
  }
  mark('offer');
  note(iceRestart ? 'offer (ICE restart)' : 'offer');
  send({ type: 'offer', sdp: pc.localDescription.sdp, sources: sources() });
}

async function onServerOffer(sdp) {
  if (!pc) return;
  // Polite: accept the server's offer even over our own, which is rolled back.
  if (pc.signalingState === 'have-local-offer') needOffer = true;
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await pc.setLocalDescription();
  send({ type: 'answer', sdp: pc.localDescription.sdp });
  if (needOffer) await makeOffer(false);
}

function onEvent(ev) {
  if (ev.kind === 'tracks') {
    remoteTracks = ev.tracks || [];
    const mids = new Set(remoteTracks.map((x) => x.mid));
    for (const el of [...$('remote').children]) {
      if (!mids.has(el.dataset.mid)) el.remove();
    }
    for (const info of remoteTracks) caption(info);
    layout();
  } else if (ev.kind === 'participant-left') {
    for (const el of [...$('remote').children]) {
      if (el.dataset.participant === ev.participantId) el.remove();
    }
    layout();
  }
}

// layout tells the stylesheet how many videos there are, for the grid.
function layout() {
  $('remote').dataset.count = String($('remote').querySelectorAll('figure').length);
}

function caption(info) {
  const el = $('remote').querySelector(`[data-mid="${CSS.escape(info.mid)}"]`);
  if (!el) return;
  el.dataset.participant = info.participantId;
  el.dataset.source = info.source;
  const cap = el.querySelector('figcaption');
  if (cap) cap.textContent = t(info.source === 'screen' ? 'call.caption.screen' : 'call.caption.camera', nameOf(info.participantId));
}

function onRemoteTrack(e) {
  const mid = e.transceiver.mid;
  const stream = new MediaStream([e.track]);
  let el;
  if (e.track.kind === 'audio') {
    el = document.createElement('audio');
    el.autoplay = true;
    el.srcObject = stream;
    el.dataset.mid = mid;
    el.hidden = true;
  } else {
    el = document.createElement('figure');
    el.dataset.mid = mid;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    video.srcObject = stream;
    el.append(video, document.createElement('figcaption'));
  }
  const old = $('remote').querySelector(`[data-mid="${CSS.escape(mid)}"]`);
  if (old) old.replaceWith(el);
  else $('remote').append(el);
  const media = el.tagName === 'AUDIO' ? el : el.querySelector('video');
  media.play().catch(() => {
    if (el.tagName === 'AUDIO') $('audio-blocked').hidden = false;
  });
  const info = remoteTracks.find((x) => x.mid === mid);
  if (info) caption(info);
  layout();
}

function addChat(m) {
  const li = document.createElement('p');
  const who = document.createElement('strong');
  who.textContent = (self && m.from === self.id ? t('call.chat.you') : m.name || t('call.role.' + m.role)) + ': ';
  const time = document.createElement('time');
  time.dateTime = m.at;
  time.className = 'meta';
  time.textContent = ' ' + new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  li.append(who, document.createTextNode(m.text), time);
  $('chat-log').append(li);
  $('chat-log').scrollTop = $('chat-log').scrollHeight;
}

// chatNotice puts a line from the page itself, not from a participant, in the chat.
function chatNotice(text) {
  const p = document.createElement('p');
  p.className = 'meta';
  p.textContent = text;
  $('chat-log').append(p);
  $('chat-log').scrollTop = $('chat-log').scrollHeight;
}

function stop(text) {
  stopped = true;
  admitted = false;
  clearTimeout(retryTimer);
  status(text);
  for (const s of [camera, outgoing, screenStream]) if (s) for (const tr of s.getTracks()) tr.stop();
  if (cardStop) cardStop();
  camera = outgoing = screenStream = preparing = null;
  closePeer();
  $('stage').hidden = true;
  $('chat').hidden = true;
  if ($('lobby')) $('lobby').hidden = true;
  if ($('call-after') && cfg.token) $('call-after').hidden = false;
  if (ws) ws.close();
}

// Call quality: every QUALITY_EVERY each page reads its own getStats(); citizens and
// guests send theirs to the staff, whose page shows everyone's as text.

let lastSample = null;

async function measure() {
  if (!pc || pc.connectionState === 'closed') return null;
  const report = await pc.getStats();
  const now = performance.now();
  const s = { t: now, bytesIn: 0, bytesOut: 0, recv: 0, lost: 0 };
  let rtt = NaN;
  let fps = 0;
  let lossOut = 0;
  let lossOutN = 0;
  let pairID = '';
  report.forEach((x) => {
    if (x.type === 'transport' && x.selectedCandidatePairId) pairID = x.selectedCandidatePairId;
  });
  report.forEach((x) => {
    if (x.type === 'candidate-pair' && (x.id === pairID || (!pairID && x.nominated && x.state === 'succeeded'))) {
      if (x.currentRoundTripTime !== undefined) rtt = x.currentRoundTripTime * 1000;
    } else if (x.type === 'inbound-rtp') {
      s.bytesIn += x.bytesReceived || 0;
      s.recv += x.packetsReceived || 0;
      s.lost += x.packetsLost || 0;
      if (x.kind === 'video') fps = Math.max(fps, x.framesPerSecond || 0);
    } else if (x.type === 'outbound-rtp') {
      s.bytesOut += x.bytesSent || 0;
    } else if (x.type === 'remote-inbound-rtp' && x.fractionLost !== undefined) {
      lossOut += x.fractionLost;
      lossOutN++;
      if (Number.isNaN(rtt) && x.roundTripTime) rtt = x.roundTripTime * 1000;
    }
  });
  const prev = lastSample;
  lastSample = s;
  if (!prev) return null;
  const dt = (now - prev.t) / 1000;
  const got = s.recv - prev.recv;
  const lost = Math.max(0, s.lost - prev.lost);
  return {
    rtt: Number.isNaN(rtt) ? 0 : rtt,
    lossIn: got + lost > 0 ? (100 * lost) / (got + lost) : 0,
    lossOut: lossOutN ? (100 * lossOut) / lossOutN : 0,
    kbpsIn: Math.max(0, (8 * (s.bytesIn - prev.bytesIn)) / dt / 1000),
    kbpsOut: Math.max(0, (8 * (s.bytesOut - prev.bytesOut)) / dt / 1000),
    fps,
  };
}

// level sums a quality report up in a word, so that nobody needs the colours.
function level(q) {
  if (!q || (q.kbpsIn === 0 && q.kbpsOut === 0)) return 'none';
  const loss = Math.max(q.lossIn, q.lossOut);
  if (q.rtt > 400 || loss > 5) return 'poor';
  if (q.rtt > 200 || loss > 2) return 'fair';
  return 'good';
}

const levels = {};
const pct = (v) => (v / 100).toLocaleString(document.documentElement.lang, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

function showQuality(id, q) {
  const rows = $('quality-rows');
  if (!rows) return;
  let row = rows.querySelector(`[data-participant="${CSS.escape(id)}"]`);
  if (!row) {
    row = document.createElement('tr');
    row.dataset.participant = id;
    const th = document.createElement('th');
    th.scope = 'row';
    row.append(th);
    for (let i = 0; i < 4; i++) row.append(document.createElement('td'));
    if (id === 'self') rows.prepend(row);
    else rows.append(row);
  }
  const who = id === 'self' ? t('call.quality.you') : nameOf(id);
  const lv = level(q);
  const cells = row.children;
  cells[0].textContent = who;
  cells[1].textContent = t('call.quality.' + lv);
  cells[1].dataset.level = lv;
  cells[2].textContent = q ? t('call.quality.ms', Math.round(q.rtt)) : '—';
  cells[3].textContent = q ? `${pct(q.lossIn)} / ${pct(q.lossOut)}` : '—';
  cells[4].textContent = q ? t('call.quality.kbps', Math.round(q.kbpsIn), Math.round(q.kbpsOut)) : '—';
  if (levels[id] !== lv && lv === 'poor') $('quality-alert').textContent = t('call.quality.alert', who);
  levels[id] = lv;
}

setInterval(async () => {
  if (!admitted || !pc) return;
  const q = await measure().catch(() => null);
  if (!q) return;
  if (waits) send({ type: 'quality', quality: q });
  else showQuality('self', q);
}, QUALITY_EVERY);

// Controls.

function toggle(button, kind) {
  const off = button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', String(off));
  for (const s of [camera, outgoing]) if (s) for (const tr of s.getTracks()) if (tr.kind === kind) tr.enabled = !off;
}

$('mute').addEventListener('click', (e) => toggle(e.currentTarget, 'audio'));
$('camera').addEventListener('click', (e) => toggle(e.currentTarget, 'video'));

$('share').addEventListener('click', async () => {
  if (screenStream) {
    stopShare();
    return;
  }
  try {
    screenStream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (err) {
    console.warn('call: getDisplayMedia', err);
    status(t('call.status.share_error'));
    return;
  }
  const tr = screenStream.getVideoTracks()[0];
  sourceOfTrack.set(tr.id, 'screen');
  tr.addEventListener('ended', stopShare);
  $('share').setAttribute('aria-pressed', 'true');
  if (pc) screenSender = pc.addTransceiver(tr, { direction: 'sendonly', streams: [screenStream] }).sender;
});

function stopShare() {
  if (!screenStream) return;
  for (const tr of screenStream.getTracks()) tr.stop();
  screenStream = null;
  if (pc && screenSender) pc.removeTrack(screenSender);
  screenSender = null;
  $('share').setAttribute('aria-pressed', 'false');
}

$('enable-audio').addEventListener('click', () => {
  for (const a of $('remote').querySelectorAll('audio')) a.play().catch(() => {});
  $('audio-blocked').hidden = true;
});

if ($('leave')) $('leave').addEventListener('click', () => send({ type: 'leave' }));
if ($('end')) $('end').addEventListener('click', () => send({ type: 'end' }));

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('chat-text');
  const text = input.value.trim();
  if (!text) return;
  send({ type: 'chat', text });
  input.value = '';
  input.focus();
});

// The lobby: the citizen may turn the camera on while waiting (only they see it).
if ($('prepare')) {
  $('prepare').addEventListener('click', () => prepareMedia());
  if (navigator.permissions) {
    Promise.all(['camera', 'microphone'].map((name) => navigator.permissions.query({ name })))
      .then((ps) => { if (ps.every((p) => p.state === 'granted')) prepareMedia(); })
      .catch(() => {});
  }
}

// The agent invites an interpreter: a link to copy and send.
if ($('chat-keep')) {
  $('chat-keep').addEventListener('click', () => {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      $('chat-kept').textContent = t('call.chat.keep_failed'); // reconnecting: nothing was sent
      return;
    }
    $('chat-kept').textContent = '';
    send({ type: 'keep_chat' });
  });
}

if ($('invite-form')) {
  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $('invite-result');
    try {
      const resp = await fetch(cfg.invite, { method: 'POST', body: new URLSearchParams(new FormData(e.currentTarget)) });
      if (!resp.ok) throw new Error('status ' + resp.status);
      const inv = await resp.json();
      $('invite-link').value = location.origin + inv.path;
      $('invite-expires').textContent = t('call.invite.made', new Date(inv.expires).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }));
      out.hidden = false;
      $('invite-link').focus();
      $('invite-link').select();
    } catch (err) {
      console.warn('call: invite', err);
      $('invite-expires').textContent = t('call.invite.failed');
      out.hidden = false;
    }
  });
  $('invite-copy').addEventListener('click', async () => {
    $('invite-link').select();
    try {
      await navigator.clipboard.writeText($('invite-link').value);
      $('invite-expires').textContent = t('call.invite.copied');
    } catch {
      document.execCommand('copy');
    }
  });
}

window.addEventListener('pagehide', () => {
  stopped = true;
  if (ws) ws.close();
});
window.addEventListener('online', () => {
  if (!ws && !stopped) connect();
});

// A browser without WebRTC (some built without it) would wait in the lobby, be admitted
// and then show an empty call: it is told at once instead, and never joins.
if (typeof RTCPeerConnection !== 'function' || !navigator.mediaDevices) {
  stopped = true;
  status(t('call.status.unsupported'));
} else {
  connect();
}
