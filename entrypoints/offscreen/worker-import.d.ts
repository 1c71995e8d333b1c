// Vite's `?worker` imports (the engine worker of ./main.ts): the default export constructs the worker.
declare module '*?worker' {
  const WorkerConstructor: new (options?: { name?: string }) => Worker;
  export default WorkerConstructor;
}
