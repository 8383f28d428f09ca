/**
 * The code form served in the page itself (webmail/pages.ts renders it into index.html): a person can type
 * and even submit before this app has loaded. It is a non-modal <dialog open> whose form has
 * method="dialog": submitting it needs no script, sends nothing anywhere (the field has no name, and the
 * CSP has form-action 'none'), and only closes the dialog, which app.css keeps visible. So the app can
 * tell afterwards whether it was submitted.
 *
 * The app adopts it in the same task as it shows its own form (CodeEntry): value, focus and a submission
 * carry over, and the served form is removed before the next paint — no second form shows.
 */
export interface BootEntry {
  value: string;
  focused: boolean;
  /** Submitted (Enter or the button) before the app ran. */
  submitted: boolean;
}

function bootDialog(): HTMLDialogElement | undefined {
  const el = document.getElementById('boot');
  return el instanceof HTMLDialogElement ? el : undefined;
}

/** Whether the served form is still in the page (the app shows nothing of its own while it loads). */
export function bootFormShown(): boolean {
  return bootDialog() !== undefined;
}

/** Take what was typed into the served form, and remove it. undefined: there is none (any more). */
export function takeBootForm(): BootEntry | undefined {
  const dialog = bootDialog();
  if (!dialog) return undefined;
  const input = dialog.querySelector('input');
  const entry = {
    value: input?.value ?? '',
    focused: input !== null && document.activeElement === input,
    submitted: !dialog.open,
  };
  if (input) input.value = '';
  dialog.remove();
  return entry;
}
