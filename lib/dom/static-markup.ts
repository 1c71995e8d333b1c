/**
 * Our own fixed markup (styles and icons: constants, never page data) as nodes. Parsed with
 * DOMParser rather than assigned to innerHTML, which store review tools (addons-linter, `web-ext
 * lint`) flag whatever it is given, and which would be one edit away from taking page data.
 */
export function staticMarkup(markup: string): Node[] {
  return [...new DOMParser().parseFromString(`<!doctype html><body>${markup}`, 'text/html').body.childNodes];
}
