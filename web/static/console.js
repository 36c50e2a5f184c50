// Keeps the agent console, the supervisor board and the interpreter's page live, and
// walks the call script.
//
// Live: the server says {"type":"changed"} over a WebSocket when something the page
// shows has changed; the page then fetches itself and swaps the regions marked
// data-live-region whose content differs, keeping the keyboard focus where it was. When
// the citizen being served changes, the whole page is reloaded. Without a WebSocket the
// page asks every 15 s. The page works without this script: it is then a normal page.
const root = document.querySelector('.console[data-live]');

if (root) {
  let refreshing = false;
  let again = false;
  let poller = null;
  let backoff = 1000;
  // Once a form is submitted the page is on its way out: no refresh may replace it.
  let leaving = false;
  document.addEventListener('submit', (e) => { if (!e.defaultPrevented) leaving = true; });
  window.addEventListener('pageshow', () => { leaving = false; });

  const announce = (text) => {
    const el = document.getElementById('live-announce');
    if (el && text) el.textContent = text;
  };

  const refresh = async () => {
    if (leaving) return;
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const r = await fetch(location.pathname, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      if (!r.ok || r.redirected) return;
      const text = await r.text();
      if (leaving) return;
      const doc = new DOMParser().parseFromString(text, 'text/html');
      const next = doc.querySelector('.console[data-live]');
      if (!next) return;
      if ((next.dataset.assignment || '') !== (root.dataset.assignment || '')) {
        location.replace(location.pathname);
        return;
      }
      const before = document.getElementById('presence-state');
      const oldPresence = before ? before.textContent : '';
      for (const region of next.querySelectorAll('[data-live-region][id]')) {
        const here = document.getElementById(region.id);
        if (!here || here.innerHTML === region.innerHTML) continue;
        const focused = document.activeElement && here.contains(document.activeElement) ? document.activeElement.id : '';
        here.innerHTML = region.innerHTML;
        if (focused) {
          const el = document.getElementById(focused);
          if (el) el.focus();
        }
      }
      const after = document.getElementById('presence-state');
      if (after && after.textContent !== oldPresence) announce(after.textContent);
    } catch (e) {
      // Offline for a moment: the next event or poll tries again.
    } finally {
      refreshing = false;
      if (again) { again = false; setTimeout(refresh, 50); }
    }
  };

  const poll = () => {
    if (!poller) poller = setInterval(refresh, 15000);
  };

  const connect = () => {
    if (!('WebSocket' in window)) return poll();
    const url = new URL(root.dataset.live, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    ws.onopen = () => {
      backoff = 1000;
      if (poller) { clearInterval(poller); poller = null; }
      refresh(); // whatever changed while connecting
    };
    ws.onmessage = () => refresh();
    ws.onclose = () => {
      poll();
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  };
  connect();
  // A page whose content also changes with the clock (the interpreter's Join opens 15
  // minutes before the call) refreshes itself at that pace too.
  const every = Number(root.dataset.refreshEvery);
  if (every > 0) setInterval(refresh, every * 1000);
  window.balcaoConsole = { refresh };
}

// Progress: the script's ticks, the current step and the outcome form are saved on the
// server as the agent goes (POST /staff/console/progress with the form's own fields,
// answered 204), so that a reload, another tab or a crashed browser resumes there.
// Without this script the form's "Save progress" button posts the same fields.
const finish = document.getElementById('finish');
const saveButton = document.getElementById('save-progress');
let saveSoon = () => {};
if (finish && saveButton) {
  const status = document.getElementById('progress-status');
  const announce = (text) => {
    const el = document.getElementById('live-announce');
    if (el && text) el.textContent = text;
  };
  const clock = () => new Date().toLocaleTimeString(document.documentElement.lang,
    { timeZone: 'Europe/Lisbon', hour: '2-digit', minute: '2-digit' });
  const body = () => new URLSearchParams(new FormData(finish));
  let timer = null;
  let saving = false;
  let again = false;
  let then = null; // what to do once the next save is done

  const save = async () => {
    clearTimeout(timer);
    timer = null;
    if (saving) { again = true; return; }
    saving = true;
    const after = then;
    then = null;
    try {
      const r = await fetch(saveButton.formAction, {
        method: 'POST', credentials: 'same-origin', body: body(),
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      if (r.status === 204) {
        status.textContent = status.dataset.saved.replace('%s', clock());
        if (after) after();
      } else if (r.status === 409) {
        // The contact ended elsewhere (another tab): show the console as it is now.
        location.replace(location.pathname);
      } else {
        const answer = await r.json().catch(() => ({}));
        status.textContent = answer.message || status.dataset.failed;
        announce(status.textContent + ' ' + Object.values(answer.fields || {}).join(' '));
      }
    } catch (e) {
      status.textContent = status.dataset.failed;
      announce(status.textContent);
    } finally {
      saving = false;
      if (again) { again = false; save(); }
    }
  };
  saveSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 700);
  };

  saveButton.hidden = true;
  finish.addEventListener('submit', (e) => {
    clearTimeout(timer);
    timer = null;
    if (e.submitter === saveButton) {
      e.preventDefault();
      save();
    }
  });
  const stage = document.getElementById('f-stage');
  // The form's fields include those outside it (form="finish"): the ticks and the
  // identity questions in the script.
  document.addEventListener('change', (e) => {
    const el = e.target;
    if (el.form !== finish) return;
    if (el.name === 'done' && el.checked && stage && Number(stage.value) < Number(el.value)) {
      stage.value = el.value; // the step reached is at least the last one ticked
    }
    if (el.name === 'theme') {
      // The chosen theme's instructions: at once among the service's themes, and from
      // the server (which has just saved the choice) for any theme.
      for (const d of document.querySelectorAll('#service-themes details[data-theme]')) {
        if (el.value) d.open = d.dataset.theme === el.value;
      }
      if (window.balcaoConsole) then = window.balcaoConsole.refresh;
    }
    save();
  });
  document.addEventListener('input', (e) => {
    const el = e.target;
    if (el.form === finish && (el.tagName === 'TEXTAREA' || el.type === 'text')) saveSoon();
  });
  // Leaving with a save still waiting: send it on the way out.
  window.addEventListener('pagehide', () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    navigator.sendBeacon(saveButton.formAction, new Blob([body().toString()], { type: 'application/x-www-form-urlencoded' }));
  });
}

// The call script: one step is current (aria-current="step"); Next and Previous move
// it, and the furthest step reached is kept in the outcome form's "step reached". The
// current step is saved with the progress, and the page opens on it.
const steps = Array.from(document.querySelectorAll('#script-steps .step'));
const nav = document.getElementById('script-nav');
if (steps.length && nav) {
  const stage = document.getElementById('f-stage');
  const position = document.getElementById('step-position');
  const prev = document.getElementById('step-prev');
  const next = document.getElementById('step-next');
  let current = Math.max(0, steps.findIndex((s) => s.getAttribute('aria-current') === 'step'));
  let reached = stage ? Math.max(Number(stage.value) || 1, current + 1) : current + 1;

  const saved = document.getElementById('f-current');
  const show = (focusStep) => {
    steps.forEach((s, i) => {
      if (i === current) s.setAttribute('aria-current', 'step');
      else s.removeAttribute('aria-current');
    });
    reached = Math.max(reached, current + 1, stage ? Number(stage.value) || 0 : 0);
    if (stage) stage.value = String(reached);
    if (saved && saved.value !== String(current + 1)) {
      saved.value = String(current + 1);
      saveSoon();
    }
    position.textContent = position.dataset.format.replace('%d', String(current + 1)).replace('%d', String(steps.length));
    prev.disabled = current === 0;
    next.disabled = current === steps.length - 1;
    if (focusStep) steps[current].scrollIntoView({ block: 'nearest' });
  };
  prev.addEventListener('click', () => { if (current > 0) { current--; show(true); } });
  next.addEventListener('click', () => { if (current < steps.length - 1) { current++; show(true); } });
  steps.forEach((s, i) => s.addEventListener('focusin', () => { if (current !== i) { current = i; show(false); } }));
  nav.hidden = false;
  show(false);

  // The representative's name matters only when speaking with a third party.
  const field = document.getElementById('representative-field');
  const persons = Array.from(document.querySelectorAll('input[name="person"]'));
  const sync = () => {
    const third = persons.some((p) => p.checked && p.value === 'third_party');
    if (field) field.hidden = !third && !field.classList.contains('invalid');
  };
  persons.forEach((p) => p.addEventListener('change', sync));
  sync();
}
