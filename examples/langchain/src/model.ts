import { BaseChatModel, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';

/**
 * Stands in for a tool-calling LLM: a LangChain chat model whose answers are scripted, reacting
 * to the tool results it reads. No network, no model weights. It binds tools as a provider
 * integration does (name, description and JSON schema of each).
 */
export class ScriptedTravelModel extends BaseChatModel {
  boundToolNames: string[] = [];

  _llmType(): string {
    return 'scripted-travel-model';
  }

  override bindTools(tools: BindToolsInput[]) {
    this.boundToolNames = tools.map((t) => convertToOpenAITool(t).function.name);
    return this.withConfig({});
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const message = this.next(messages);
    return { generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }] };
  }

  private next(messages: BaseMessage[]): AIMessage {
    const turn = messages.filter((m) => AIMessage.isInstance(m)).length + 1;
    const last = messages[messages.length - 1];
    const lastText = last ? String(last.content) : '';
    switch (turn) {
      case 1:
        // Search (codes written sloppily) and, in parallel, an impatient booking for 6 people.
        return new AIMessage({
          content: '',
          tool_calls: [
            { id: 'call_search_1', name: 'search_flights', args: { from: ' osl', to: 'lis ' } },
            { id: 'call_book_1', name: 'book_flight', args: { flight: 'OSL-LIS 08:15', passengers: 6, budget: 2520 } },
          ],
        });
      case 2:
        // The booking came back invalid (max 4 passengers); the model retries for 4 at once.
        if (!(last instanceof ToolMessage) || last.status !== 'error') return new AIMessage('I am confused.');
        return new AIMessage({
          content: '',
          tool_calls: [{ id: 'call_book_2', name: 'book_flight', args: { flight: 'OSL-LIS 08:15', passengers: 4, budget: 1680 } }],
        });
      case 3:
        // Denied by policy: the model reads why and books the cheaper flight within the limit.
        if (!lastText.includes('self-service limit')) return new AIMessage('I am confused.');
        return new AIMessage({
          content: '',
          tool_calls: [{ id: 'call_book_3', name: 'book_flight', args: { flight: 'OSL-LIS 17:40', passengers: 3, budget: 930 } }],
        });
      default:
        return new AIMessage(`All set: ${lastText}. The fourth seat needs approval for budgets over EUR 1000.`);
    }
  }
}
