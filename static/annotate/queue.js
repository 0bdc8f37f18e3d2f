// The queue page after a rating was saved: that assignment's draft is no longer needed.
(() => {
  const cleared = document.getElementById("cleared-draft");
  if (!cleared) return;
  try {
    localStorage.removeItem(`refscore:draft:${JSON.parse(cleared.textContent)}`);
  } catch (e) {
    // Storage may be disabled; a stale draft is harmless.
  }
})();
