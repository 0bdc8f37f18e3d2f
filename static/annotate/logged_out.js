// The login page after signing out: rating drafts belong to the person who left, so the
// next person on this browser does not find them.
(() => {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key && key.startsWith("refscore:draft:")) localStorage.removeItem(key);
    }
  } catch (e) {
    // Storage disabled: there is nothing to clear.
  }
})();
