/* The short message at the bottom of the page (saved, failed, …) that hides itself. */

let toastTimer = null;

/** toast("Saved", "ok"); kind "ok" | "error" | undefined. */
export function toast(message, kind) {
  const node = document.getElementById("fs-toast");
  node.textContent = message;
  node.className = "fs-toast" + (kind ? ` fs-toast-${kind}` : "");
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 5000);
}
