export declare const MALLOC_TUNING: Readonly<{ MALLOC_MMAP_THRESHOLD_: string }>;
export declare function wantsMallocTuning(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): boolean;
export declare function withMallocTuning(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): NodeJS.ProcessEnv;
export declare const LONG_RUNNING_COMMANDS: readonly string[];
export declare function isLongRunning(args: readonly string[]): boolean;
