/** The candidate policy the policy-test tests replay trails against. */
export const CANDIDATE_YAML = `id: support-agent
default: allow
rules:
  - id: mail-inside-company
    tools: ["send_email"]
    when: "facts.emails.exists(e, e.domain != 'example.com')"
    decide: deny
    reason: mail leaves example.com
  - id: big-refund
    tools: ["refund"]
    when: "args.amount > 100"
    decide: ask
  - id: etc-is-off-limits
    tools: ["read_file", "delete_file"]
    when: "facts.paths.exists(p, p.startsWith('/etc/'))"
    decide: deny
  - id: admins-only
    tools: ["admin.*"]
    when: "run.principal.id != 'user:root'"
    decide: deny
  - id: no-export
    tools: ["export_customers"]
    decide: deny
`;
