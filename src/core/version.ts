import pkg from "../../package.json" with { type: "json" };

/** The package version; `bun build --compile` inlines it into the executable. */
export const VERSION: string = pkg.version;
