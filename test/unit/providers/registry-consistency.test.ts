import { allProviders } from '../../../src/providers/registry';
test.each(allProviders().map((d) => [d.spec.name, d]))('%s: spec agrees with what the folder implements', (_n, d) => {
  expect(d.connector.provider).toBe(d.spec.name);
  expect(typeof d.connector.status === 'function').toBe(d.spec.readable);
  expect(typeof d.connector.acknowledge === 'function').toBe(d.spec.kind === 'pager');
  expect(d.inbound === undefined).toBe(d.spec.kind === 'chat');
  if (d.listChanges) expect(d.spec.readable).toBe(true);
  const h = d.inbound?.signature?.header;
  if (h) { expect(h).toBe(h.toLowerCase()); expect(h.startsWith('x-probectl-')).toBe(false); }
  const dh = d.inbound?.deliveryHeader;
  if (dh) expect(dh).toBe(dh.toLowerCase());
});
