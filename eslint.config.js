// ESLint (flat config) for the browser code under static/ and its tests under tests/js/.
// The static files are ES modules served as they are (no build step), under a
// Content-Security-Policy that forbids eval; the tests run on Node's own test runner.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "staticfiles/", "var/", ".venv/", "artifacts/"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      // Django's JavaScript catalog (base.html) defines the translation functions.
      globals: { ...globals.browser, gettext: "readonly", ngettext: "readonly", pgettext: "readonly", interpolate: "readonly" },
    },
  },
  {
    files: ["tests/js/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
  {
    rules: {
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
    },
  },
];
