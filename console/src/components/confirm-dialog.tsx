import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal confirmation on a native <dialog>: the browser keeps focus inside and Escape cancels; focus starts
 * on Cancel (the safe choice) and goes back to the element that opened it when it closes.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: preact.ComponentChildren;
  acceptLabel: string;
  onAccept: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (props.open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      cancel.current?.focus();
    } else if (!props.open && d.open) {
      d.close();
    }
  }, [props.open]);

  return (
    <dialog
      ref={dialog}
      aria-labelledby="confirm-title"
      aria-describedby="confirm-body"
      onClose={() => {
        if (opener.current instanceof HTMLElement) opener.current.focus();
        if (props.open) props.onCancel();
      }}
    >
      <h2 id="confirm-title">{props.title}</h2>
      <div id="confirm-body">{props.children}</div>
      <div class="actions">
        <button type="button" ref={cancel} onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="primary danger" onClick={props.onAccept}>
          {props.acceptLabel}
        </button>
      </div>
    </dialog>
  );
}
