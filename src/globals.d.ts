/** Replaced at build time by esbuild's `define` with package.json's version. */
declare const PARPROF_VERSION: string;
