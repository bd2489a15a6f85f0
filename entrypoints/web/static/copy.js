// Copy buttons: <button data-copy="ID"> copies the value of the input with that id.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copied");
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    if (status) status.textContent = "Copied.";
  } catch {
    // Clipboard access needs a secure context; the text stays selected for Ctrl+C.
    if (status) status.textContent = "Selected: press Ctrl+C to copy.";
  }
});
