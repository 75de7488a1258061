// Types of bin/v8-tuning.js (plain JS beside the `kloset` entry point), for the tests and benchmarks.
export declare const V8_FLAGS: string[];
export declare const START_FLAGS: string[];
export declare function v8FlagsFor(execArgv: string[], env?: Record<string, string | undefined>): string[];
export declare function shebangFlags(firstLine: string): string[];
export declare function startFlagsOf(scriptPath: string): string[];
