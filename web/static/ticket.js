// Keeps a walk-in ticket's page live: the server pushes the position and estimated wait
// over a WebSocket whenever the queue moves; without one, the page asks every 15 s.
const root = document.querySelector('.ticket[data-live]');
if (root) {
  const text = (k) => root.dataset['t' + k.replace(/(^|_)([a-z])/g, (m, s, c) => c.toUpperCase())] || '';
  const $ = (id) => document.getElementById(id);
  let alerted = !$('near').hidden;
  let backoff = 1000;
  let poller = null;

  const show = (u) => {
    const waiting = u.status === 'waiting';
    $('status').textContent = text(u.status);
    $('position').textContent = waiting ? String(u.position) : '—';
    $('wait').textContent = waiting ? text('minutes').replace('%d', String(Math.max(1, Math.ceil(u.estimated_wait_seconds / 60)))) : '—';
    const near = (waiting && u.near) || u.status === 'called';
    $('near').hidden = !near;
    if (u.status === 'called') $('near').textContent = text('called');
    if (near && !alerted) {
      alerted = true;
      document.title = '⏰ ' + text('title');
      if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    }
    const join = $('join-call');
    if (join) join.hidden = u.status !== 'called' && u.status !== 'in_call';
    const leave = $('leave');
    if (leave && !waiting) leave.hidden = true;
    return waiting || u.status === 'called';
  };

  const poll = () => {
    if (poller) return;
    poller = setInterval(async () => {
      try {
        const r = await fetch(root.dataset.status, { headers: { Accept: 'application/json' } });
        if (r.ok && !show(await r.json())) clearInterval(poller);
      } catch (e) { /* offline for a moment: the next tick tries again */ }
    }, 15000);
  };

  const connect = () => {
    if (!('WebSocket' in window)) return poll();
    const url = new URL(root.dataset.live, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    let open = true;
    ws.onmessage = (ev) => {
      backoff = 1000;
      open = show(JSON.parse(ev.data));
    };
    ws.onclose = () => {
      if (!open) return;
      poll();
      setTimeout(() => { clearInterval(poller); poller = null; connect(); }, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  };
  connect();
}
