/**
 * The console's screens each have their own URL under /console (bookmarkable, linkable from a log line). A
 * reload signs her out (the session key is memory only), so a deep link shows the sign-in first and then
 * the screen it names. Navigation is history.pushState; Back and Forward work.
 */
export const route = $state<{ path: string }>({ path: normalise(location.pathname) });

export function normalise(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p === '' ? '/console' : p;
}

export function navigate(path: string): void {
  const next = normalise(path);
  if (next === route.path) return;
  history.pushState(null, '', next);
  route.path = next;
}

addEventListener('popstate', () => {
  route.path = normalise(location.pathname);
});
