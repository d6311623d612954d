/** Escaping of control characters, so that no field value can break a line or drive a terminal. */

// Everything a terminal or a line reader could treat as a break or a control sequence.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** One character as `\uXXXX`. */
export function escapeChar(ch: string): string {
  return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
}

/** Text with every control character and line separator written as `\uXXXX`: safe on one line or a terminal. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, escapeChar);
}

