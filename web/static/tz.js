// Remembers the visitor's time zone in a cookie, so that the server shows times in it
// (with Lisbon time beside them). A page that already shows times is reloaded once.
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const known = document.cookie.split('; ').some((c) => c.startsWith('tz='));
if (zone && !known) {
  document.cookie = 'tz=' + encodeURIComponent(zone) + '; path=/; max-age=31536000; samesite=lax';
  if (zone !== 'Europe/Lisbon' && document.querySelector('[data-times]')) location.reload();
}
