import { MemoryStore } from './store-memory.ts';
import { storeContract } from './test-support/store-contract.ts';

storeContract('MemoryStore', async () => {
  let now = Date.now();
  const root = new MemoryStore({ now: () => now });
  return {
    store: async () => root.connect(),
    advance: async (seconds) => {
      now += seconds * 1000;
    },
    cleanup: async () => root.close(),
  };
});
