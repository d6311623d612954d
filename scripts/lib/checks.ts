/** The check list of the scripts CI runs: one line per check, then "NAME: N passed, N failed". */

export class Checks {
  #passed = 0;
  #failed = 0;

  constructor(readonly name: string) {}

  check(what: string, ok: boolean, detail = ""): void {
    if (ok) this.#passed += 1;
    else this.#failed += 1;
    console.log(`${ok ? "ok" : "FAIL"}: ${what}${ok || !detail ? "" : ` (${detail.trim()})`}`);
  }

  /** Run the checks, clean up, print the summary line and exit 1 if any failed. */
  async run(body: () => Promise<void>, cleanUp: () => void): Promise<never> {
    try {
      await body();
    } catch (error) {
      this.check(`${this.name} ran to the end`, false, String(error));
    } finally {
      cleanUp();
    }
    console.log(`${this.name}: ${this.#passed} passed, ${this.#failed} failed`);
    process.exit(this.#failed === 0 ? 0 : 1);
  }
}
