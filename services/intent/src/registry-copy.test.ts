// The intent stage's registry copy takes its snapshot page by page, at the first page's version.
import { describe, expect, it } from 'vitest';
import { Agent, type ListAgentsRequest, type ListAgentsResponse } from '@moma/proto';
import { RegistryCopy, type OrchestratorClient } from './registry-copy.ts';

const agent = (id: string): Agent => Agent.fromPartial({ id, card: { name: id, url: 'http://127.0.0.1:9/a2a', skills: [] } });

describe('intent registry copy', () => {
  it('registry copy - follows next_page_token to the last page and keeps the first page version', async () => {
    const pages: Record<string, ListAgentsResponse> = {
      '': { agents: [agent('a'), agent('b')], version: 7, listed: true, nextPageToken: 't1' },
      t1: { agents: [agent('c')], version: 8, listed: true, nextPageToken: 't2' },
      t2: { agents: [agent('d')], version: 8, listed: true, nextPageToken: '' },
    };
    const asked: ListAgentsRequest[] = [];
    const orchestrator = {
      listAgents: async (req: ListAgentsRequest) => {
        asked.push(req);
        return pages[req.pageToken]!;
      },
    } as unknown as OrchestratorClient;
    const copy = new RegistryCopy(orchestrator);
    expect(await copy.sync()).toBe(true);
    expect(copy.specs().map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(copy.version).toBe(7);
    expect(asked.map((r) => r.pageToken)).toEqual(['', 't1', 't2']);
  });
});
