import { context, trace, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateText, stepCountIs, type Telemetry } from 'ai';
import { OpenTelemetry } from '@ai-sdk/otel';
import { afterEach, describe, expect, it } from 'vitest';
import { auditAiSdkTools } from '../src/index.js';
import { alice, harness, scriptedModel } from './helpers.js';
import { shopTools } from './shop-tools.js';

/**
 * The span mechanics of `@ai-sdk/otel`'s `OpenTelemetry` integration (not installed here): a root
 * span per call, an `execute_tool` span per tool call started on `onToolExecutionStart`, and the
 * tool's `execute` run with that span active (`executeTool` → `context.with`). Spans come from the
 * app's global tracer provider.
 */
function sdkOtelLikeIntegration(): Telemetry {
  const tracer = trace.getTracer('gen_ai');
  const roots = new Map<string, { span: Span; ctx: Context }>();
  const tools = new Map<string, { span: Span; ctx: Context }>();
  return {
    onStart(event) {
      const span = tracer.startSpan(`invoke_agent ${'modelId' in event ? String(event.modelId) : ''}`);
      roots.set(event.callId, { span, ctx: trace.setSpan(context.active(), span) });
    },
    onToolExecutionStart(event) {
      const root = roots.get(event.callId);
      const span = tracer.startSpan(`execute_tool ${event.toolCall.toolName}`, { attributes: { 'gen_ai.tool.call.id': event.toolCall.toolCallId } }, root?.ctx);
      tools.set(event.toolCall.toolCallId, { span, ctx: trace.setSpan(root?.ctx ?? context.active(), span) });
    },
    executeTool({ toolCallId, execute }) {
      const entry = tools.get(toolCallId);
      return entry ? context.with(entry.ctx, execute) : execute();
    },
    onToolExecutionEnd(event) {
      tools.get(event.toolCall.toolCallId)?.span.end();
    },
    onEnd(event) {
      roots.get(event.callId)?.span.end();
    },
  };
}

describe('with the SDK telemetry on', () => {
  afterEach(() => {
    trace.disable();
    context.disable();
  });

  it("nests each audit span under the SDK's tool span, in one trace with the run", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const appSpans = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appSpans)] }));

    const h = harness();
    const model = scriptedModel([[{ id: 't-1', tool: 'place_order', input: { sku: 'a', qty: 1 } }], [{ id: 't-2', tool: 'place_order', input: { sku: 'b', qty: 2 } }], 'done']);
    const tools = auditAiSdkTools(shopTools([]), { auditor: h.auditor });
    await h.auditor.run(alice, () =>
      generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(4), telemetry: { isEnabled: true, integrations: [sdkOtelLikeIntegration()] } }),
    );

    const sdk = appSpans.getFinishedSpans();
    const audit = await h.spans();
    const runSpan = audit.find((s) => s.name === 'invoke_agent shop-bot')!;
    const sdkRoot = sdk.find((s) => s.name === 'invoke_agent mock-model-id')!;
    // The SDK's root span started inside auditor.run(): its parent is the run span.
    expect(sdkRoot.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);
    for (const id of ['t-1', 't-2']) {
      const sdkTool = sdk.find((s) => s.name === 'execute_tool place_order' && s.attributes['gen_ai.tool.call.id'] === id)!;
      const auditTool = audit.find((s) => s.name === 'execute_tool place_order' && s.attributes['gen_ai.tool.call.id'] === id)!;
      expect(sdkTool.parentSpanContext?.spanId).toBe(sdkRoot.spanContext().spanId);
      expect(auditTool.parentSpanContext?.spanId).toBe(sdkTool.spanContext().spanId);
      expect(auditTool.spanContext().traceId).toBe(runSpan.spanContext().traceId);
      expect(auditTool.attributes['user.id']).toBe('user:42');
    }
  });

  it("nests each audit span under the tool span of the real @ai-sdk/otel integration", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const appSpans = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appSpans)] }));

    const h = harness();
    const model = scriptedModel([[{ id: 'o-1', tool: 'place_order', input: { sku: 'a', qty: 1 } }], 'done']);
    const tools = auditAiSdkTools(shopTools([]), { auditor: h.auditor });
    await h.auditor.run(alice, () =>
      generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3), telemetry: { isEnabled: true, integrations: [new OpenTelemetry()] } }),
    );

    const sdk = appSpans.getFinishedSpans();
    const audit = await h.spans();
    const runSpan = audit.find((s) => s.name === 'invoke_agent shop-bot')!;
    const auditTool = audit.find((s) => s.name === 'execute_tool place_order' && s.attributes['gen_ai.tool.call.id'] === 'o-1')!;
    // The audit span's parent is a span the SDK's own integration made for this tool call.
    const parent = sdk.find((s) => s.spanContext().spanId === auditTool.parentSpanContext?.spanId);
    expect(parent).toBeDefined();
    expect(parent!.name).toContain('place_order');
    expect(auditTool.spanContext().traceId).toBe(runSpan.spanContext().traceId);
    expect(auditTool.attributes['user.id']).toBe('user:42');
  });
});
