/* The scripts' words in the reader's language.
 *
 * Django's JavaScript catalog (a script URL in base.html, run before any module) defines
 * gettext and interpolate with the djangojs translations of the page's language. Without
 * it (Node's unit tests) the English text is used as it is.
 *
 * Call gettext with the literal text, gettext("Play"): makemessages finds the strings by
 * that name (`make messages` puts them in locale/<language>/LC_MESSAGES/djangojs.po).
 */

/** `text` in the reader's language. */
export const gettext = globalThis.gettext ?? ((text) => text);

/** `text` with each %(name)s replaced by values[name]. */
export function format(text, values) {
  if (typeof globalThis.interpolate === "function") return globalThis.interpolate(text, values, true);
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
}

/** `text` in the reader's language, where `context` tells its sense ("open": a state). */
export const pgettext = globalThis.pgettext ?? ((context, text) => text);
