/** Form-encoded bodies and query strings as objects, for providers that send them (Twilio, Plivo, Vonage). */

/** `a=1&b=2` as `{a: "1", b: "2"}`; a name given twice keeps its first value. */
export function formFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(text)) if (!Object.hasOwn(fields, name)) fields[name] = value;
  return fields;
}

/** A GET callback's query parameters, or a POST's form body, as an object. */
export function requestFields(request: { method: string; url: string; text: string }): Record<string, string> {
  if (request.method === "GET") {
    const q = request.url.indexOf("?");
    const fields = q < 0 ? {} : formFields(request.url.slice(q + 1));
    // Our own access token rides in the query too; it is not the provider's.
    delete fields.token;
    return fields;
  }
  return formFields(request.text);
}
