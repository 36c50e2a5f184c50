// The agent's identification card, drawn into the video the agent sends, so that the
// citizen sees who serves them and for which entity in the picture itself (the seed:
// the entity the agent represents must be identifiable). Only the agent's page loads
// this module.
//
// The card is drawn once into a small canvas; each camera frame then costs one copy and
// one small blend. Where the browser has MediaStreamTrackProcessor/Generator (Chrome,
// Edge) frames flow through a stream pipeline that keeps running while the tab is in the
// background; elsewhere a canvas is redrawn on each camera frame and captured.

const BRAND = '#0b5cad';

// Geometry of the card, as fractions of the frame, also read by the tests.
export const CARD = { x: 0.025, bottom: 0.035, height: 0.2, maxWidth: 0.62 };

function ellipsize(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(s + '…').width > width) s = s.slice(0, -1);
  return s + '…';
}

// drawCard returns a canvas with the card for frames of w×h, and where it goes.
function drawCard(card, w, h) {
  const ch = Math.round(h * CARD.height);
  const pad = Math.round(ch * 0.12);
  const badge = ch - 2 * pad;
  const cw = Math.round(w * CARD.maxWidth);
  const canvas = offscreen(cw, ch);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgba(255,255,255,0.93)';
  ctx.beginPath();
  ctx.roundRect(0, 0, cw, ch, pad * 0.8);
  ctx.fill();
  ctx.fillStyle = BRAND;
  ctx.fillRect(pad, pad, badge, badge);
  ctx.fillStyle = '#fff';
  ctx.font = `700 ${Math.round(badge * 0.6)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(card.initial || '', pad + badge / 2, pad + badge / 2 + 1);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  const tx = pad * 2 + badge;
  const tw = cw - tx - pad;
  const line = badge / 3;
  ctx.fillStyle = '#1b1f24';
  ctx.font = `700 ${Math.round(line * 0.85)}px system-ui, sans-serif`;
  ctx.fillText(ellipsize(ctx, card.name || '', tw), tx, pad + line * 0.85);
  ctx.fillStyle = '#4a5560';
  ctx.font = `400 ${Math.round(line * 0.7)}px system-ui, sans-serif`;
  ctx.fillText(ellipsize(ctx, card.role || '', tw), tx, pad + line * 1.85);
  ctx.fillStyle = BRAND;
  ctx.font = `700 ${Math.round(line * 0.7)}px system-ui, sans-serif`;
  ctx.fillText(ellipsize(ctx, card.agency || '', tw), tx, pad + line * 2.85);
  return { canvas, x: Math.round(w * CARD.x), y: h - ch - Math.round(h * CARD.bottom) };
}

function offscreen(w, h) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(w, h);
  return domCanvas(w, h);
}

function domCanvas(w, h) {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  return c;
}

// withCard returns a stream with stream's audio and its video with the card on it, and
// a function that stops the drawing.
export function withCard(stream, card) {
  const [track] = stream.getVideoTracks();
  if (!track) return { stream, stop() {} };
  const audio = stream.getAudioTracks();
  const piped = typeof MediaStreamTrackProcessor !== 'undefined' && typeof MediaStreamTrackGenerator !== 'undefined';
  const canvas = piped ? offscreen(1, 1) : domCanvas(1, 1);
  let ctx = null;
  let overlay = null;
  // fit sizes the canvas to the frames (a camera may change resolution).
  const fit = (w, h) => {
    if (ctx && canvas.width === w && canvas.height === h) return;
    canvas.width = w;
    canvas.height = h;
    ctx = canvas.getContext('2d', { alpha: false });
    overlay = drawCard(card, w, h);
  };
  const paint = (src, w, h) => {
    fit(w, h);
    ctx.drawImage(src, 0, 0, w, h);
    ctx.drawImage(overlay.canvas, overlay.x, overlay.y);
  };

  if (piped) {
    const processor = new MediaStreamTrackProcessor({ track });
    const generator = new MediaStreamTrackGenerator({ kind: 'video' });
    const abort = new AbortController();
    processor.readable
      .pipeThrough(new TransformStream({
        transform(frame, out) {
          paint(frame, frame.displayWidth, frame.displayHeight);
          const next = new VideoFrame(canvas, { timestamp: frame.timestamp });
          frame.close();
          out.enqueue(next);
        },
      }))
      .pipeTo(generator.writable, { signal: abort.signal })
      .catch(() => {});
    return { stream: new MediaStream([generator, ...audio]), stop() { abort.abort(); generator.stop(); } };
  }

  // Elsewhere: a canvas redrawn on each camera frame, and captured.
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  video.play().catch(() => {});
  const s = track.getSettings();
  fit(s.width || 640, s.height || 480);
  const captured = canvas.captureStream(s.frameRate || 25);
  let running = true;
  const draw = () => {
    if (!running) return;
    if (video.videoWidth) paint(video, video.videoWidth, video.videoHeight);
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(draw);
    else setTimeout(draw, 40);
  };
  draw();
  return {
    stream: new MediaStream([...captured.getVideoTracks(), ...audio]),
    stop() {
      running = false;
      video.srcObject = null;
    },
  };
}
