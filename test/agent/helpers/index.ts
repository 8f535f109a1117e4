export * from './agent-home.ts';
export * from './fake-control-plane.ts';
export * from './fake-nvidia-smi.ts';
export * from './wait.ts';
