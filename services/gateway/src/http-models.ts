// GET /v1/models/{id} (what `openai.models.retrieve(id)` calls): the model's entry as GET /v1/models lists it,
// moma/auto included. Ids may carry an organisation path ("meta-llama/Llama-3.1-8B"), so the id is the rest of the
// path, whether the client sent its slashes as they are or encoded (%2F).
import type { FastifyInstance } from 'fastify';
import { Code, MomaError } from '@moma/platform';
import { modelsJson } from './present.ts';
import type { GatewayRouter } from './router.ts';

export function registerModelRoute(app: FastifyInstance, router: GatewayRouter): void {
  app.get('/v1/models/*', async (req) => {
    const id = (req.params as { '*': string })['*'];
    const res = await router.listModels();
    const entry = modelsJson(res.models, res.routerVersion).data.find((m) => m.id === id);
    if (!entry) throw new MomaError(Code.NOT_FOUND, `the model "${id}" does not exist; GET /v1/models lists the models`, { details: { field: 'model' } });
    return entry;
  });
}
