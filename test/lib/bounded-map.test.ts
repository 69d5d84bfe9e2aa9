import { BoundedMap } from '../../src/lib/bounded-map';

test('keeps at most its bound, dropping the oldest insertion; replacing a key drops nothing', () => {
  const map = new BoundedMap<string, number>(2);
  map.set('a', 1).set('b', 2);
  map.set('b', 3);
  expect([...map]).toEqual([
    ['a', 1],
    ['b', 3],
  ]);
  map.set('c', 4);
  expect([...map]).toEqual([
    ['b', 3],
    ['c', 4],
  ]);
});
