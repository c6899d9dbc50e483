export declare const MALLOC_TUNING: Readonly<{ MALLOC_MMAP_THRESHOLD_: string }>;
export declare function wantsMallocTuning(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): boolean;
export declare function withMallocTuning(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): NodeJS.ProcessEnv;
