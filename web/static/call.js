// balcao's call page, for the citizen (lobby, then the call) and for the agent (admit,
// then the call). Signalling goes over one WebSocket (see package call for the
// messages); media goes through the server's SFU in one RTCPeerConnection.
//
// Negotiation follows the W3C "perfect negotiation" pattern
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example) with the browser as the
// POLITE peer: a server offer is always accepted (it rolls back an offer of ours), and an
// offer of ours that the server dropped ("glare") is made again once stable.
// ICE restarts on disconnected/failed; the WebSocket reconnects with back-off, each time
// with a new RTCPeerConnection, which replaces the old one in the SFU.

const cfg = JSON.parse(document.getElementById('call-config').textContent);
const $ = (id) => document.getElementById(id);
const t = (key, ...args) => {
  let i = 0;
  return (cfg.text[key] || key).replace(/%[sd]/g, () => String(args[i++] ?? ''));
};
const citizen = cfg.role === 'citizen';

let ws = null;
let backoff = 500;
let stopped = false;
let openedAt = Date.now();
let self = null;
let members = [];
let admitted = false;

let pc = null;
let localStream = null; // camera and microphone
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

// A small hook for tests and for support: the current PeerConnection.
window.balcaoCall = { get pc() { return pc; }, get tracks() { return remoteTracks; }, get admitted() { return admitted; } };

function status(text) {
  $('call-status').textContent = text;
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const sock = new WebSocket(proto + '//' + location.host + cfg.ws);
  ws = sock;
  sock.onopen = () => sock.send(JSON.stringify({ type: 'hello', token: cfg.token }));
  sock.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'welcome') backoff = 500;
    serial(() => handle(msg));
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    serial(closePeer);
    if (stopped) return;
    if (e.code === 1008 && Date.now() - openedAt > 10000) {
      location.reload(); // the token expired: the page issues a new one
      return;
    }
    status(t('call.status.reconnecting'));
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
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
    case 'ended':
    case 'left':
    case 'replaced':
      stop(t('call.status.' + msg.type));
      break;
    case 'error':
      console.warn('call: server error', msg.code);
      break;
  }
}

function nameOf(id) {
  const m = members.find((x) => x.id === id);
  if (!m) return id;
  return m.role === 'citizen' ? m.name : m.name || t('call.role.' + m.role);
}

function showLobby() {
  admitted = false;
  if ($('lobby')) $('lobby').hidden = false;
  showPresence();
}

function showPresence() {
  const staffHere = members.some((m) => m.role !== 'citizen' && m.online);
  if (citizen) {
    if (!admitted) status(t(staffHere ? 'call.status.lobby_staff' : 'call.status.lobby_alone'));
    else if (!staffHere) status(t('call.status.staff_gone'));
    else status(t('call.status.in_call'));
    return;
  }
  const list = $('waiting');
  list.replaceChildren();
  const waiting = members.filter((m) => m.role === 'citizen' && m.state === 'lobby' && m.online);
  for (const m of waiting) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = m.name;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'admit';
    button.dataset.participant = m.id;
    button.textContent = t('call.admit', m.name);
    button.addEventListener('click', () => {
      button.disabled = true;
      send({ type: 'admit', participant: m.id });
    });
    li.append(name, button);
    list.append(li);
  }
  const inCall = members.some((m) => m.role === 'citizen' && m.state === 'admitted' && m.online);
  if (waiting.length) status(t('call.status.waiting', waiting.map((m) => m.name).join(', ')));
  else if (inCall) status(t('call.status.citizen_in'));
  else status(t('call.status.nobody_waiting'));
}

async function startCall(chat) {
  admitted = true;
  if ($('lobby')) $('lobby').hidden = true;
  $('stage').hidden = false;
  $('chat').hidden = false;
  $('chat-log').replaceChildren();
  for (const m of chat || []) addChat(m);
  if (citizen) status(t('call.status.starting'));
  if (!localStream) {
    try {
      localStream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25 } },
      });
      for (const tr of localStream.getTracks()) sourceOfTrack.set(tr.id, tr.kind === 'audio' ? 'audio' : 'camera');
      $('local-video').srcObject = localStream;
    } catch (err) {
      console.warn('call: getUserMedia', err);
      status(t('call.status.media_error'));
    }
  }
  newPeer();
  showPresence();
}

function newPeer() {
  closePeer();
  pc = new RTCPeerConnection({ iceServers: cfg.iceServers || [], bundlePolicy: 'max-bundle' });
  const peer = pc;
  needOffer = false;
  // addTransceiver, never addTrack: addTrack could take over one of the server's
  // m-lines, which carry the others' media.
  if (localStream) {
    for (const tr of localStream.getTracks()) peer.addTransceiver(tr, { direction: 'sendonly', streams: [localStream] });
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
    const state = peer.iceConnectionState;
    if (peer !== pc) return;
    clearTimeout(restartTimer);
    if (state === 'failed') serial(() => makeOffer(true));
    else if (state === 'disconnected') {
      restartTimer = setTimeout(() => {
        if (peer === pc && peer.iceConnectionState === 'disconnected') serial(() => makeOffer(true));
      }, 1500);
    }
  };
}

function closePeer() {
  if (!pc) return;
  const old = pc;
  pc = null;
  old.close();
  screenSender = null;
  remoteTracks = [];
  $('remote').replaceChildren();
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
  } else if (ev.kind === 'participant-left') {
    for (const el of [...$('remote').children]) {
      if (el.dataset.participant === ev.participantId) el.remove();
    }
  }
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

function stop(text) {
  stopped = true;
  admitted = false;
  status(text);
  if (localStream) for (const tr of localStream.getTracks()) tr.stop();
  if (screenStream) for (const tr of screenStream.getTracks()) tr.stop();
  localStream = null;
  screenStream = null;
  closePeer();
  $('stage').hidden = true;
  $('chat').hidden = true;
  if ($('lobby')) $('lobby').hidden = true;
  $('call-after').hidden = false;
  if (ws) ws.close();
}

// Controls.

function toggle(button, kind) {
  const on = button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', String(on));
  if (localStream) for (const tr of localStream.getTracks()) if (tr.kind === kind) tr.enabled = !on;
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

window.addEventListener('pagehide', () => {
  stopped = true;
  if (ws) ws.close();
});

connect();
