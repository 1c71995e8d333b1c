/** Types for scripts/build-cli.mjs (plain JavaScript so that it runs at install without tsx). */
export declare const ROOT: string;
export declare const OUT_DIR: string;
/** dist/cli/vidmux.mjs: the package's `bin`. */
export declare const BIN: string;
/** dist/cli/main.mjs: the bundled cli/index.ts. */
export declare const MAIN: string;
/** Why the bundle must be rebuilt, or undefined when it is current. */
export declare function staleReason(): string | undefined;
/** Bundles the CLI into dist/cli; resolves to the build's duration in ms. */
export declare function buildCli(): Promise<number>;
/** Rebuilds when stale; resolves to whether it rebuilt. */
export declare function ensureFresh(options?: { quiet?: boolean }): Promise<boolean>;
