/**
 * A subset of SNS subscription filter policy matching on message attributes,
 * enough to show that the report's attributes work with the policies the
 * README suggests: exact strings, prefixes, anything-but and numeric ranges.
 * The rules it follows: https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html
 * Attributes are given as SNS delivers them: `{ Type, Value }` with the value a string.
 */
export interface DeliveredAttribute {
  Type: 'String' | 'Number';
  Value: string;
}

type Condition = string | number | { prefix: string } | { 'anything-but': (string | number)[] } | { numeric: (string | number)[] };

function numericMatches(operations: (string | number)[], value: number): boolean {
  for (let i = 0; i < operations.length; i += 2) {
    const op = operations[i] as string;
    const bound = operations[i + 1] as number;
    const ok = op === '=' ? value === bound : op === '>' ? value > bound : op === '>=' ? value >= bound : op === '<' ? value < bound : op === '<=' ? value <= bound : false;
    if (!ok) return false;
  }
  return true;
}

function conditionMatches(condition: Condition, attribute: DeliveredAttribute): boolean {
  if (typeof condition === 'string') return attribute.Type === 'String' && attribute.Value === condition;
  if (typeof condition === 'number') return attribute.Type === 'Number' && Number(attribute.Value) === condition;
  if ('prefix' in condition) return attribute.Type === 'String' && attribute.Value.startsWith(condition.prefix);
  if ('anything-but' in condition) return !condition['anything-but'].some((c) => conditionMatches(c, attribute));
  // Numeric conditions only ever match Number attributes: a String "2.5" is not compared.
  return attribute.Type === 'Number' && numericMatches(condition.numeric, Number(attribute.Value));
}

/** Every key must be present and match one of its conditions (AND across keys, OR within a key). */
export function matchesFilterPolicy(policy: Record<string, Condition[]>, attributes: Record<string, DeliveredAttribute>): boolean {
  return Object.entries(policy).every(([name, conditions]) => {
    const attribute = attributes[name];
    return attribute !== undefined && conditions.some((c) => conditionMatches(c, attribute));
  });
}
