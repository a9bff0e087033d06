import t from 'tap';
import { machineTicks, processCpuMs } from '../../scripts/bench/cpu.js';
import { cpuModel, memTotalGiB } from '../../scripts/bench/machine.js';
import { parseVmHwm } from '../../scripts/bench/processes.js';
import { resultFileName } from '../../scripts/bench/report.js';
import { nhsNumbers, takeNhsNumbers } from '../../scripts/bench/subjects.js';
import { isValidNhsNumber } from '../../src/http/subject.js';

t.test('VmHWM from /proc/<pid>/status', async (t) => {
  const status = 'Name:\tnode\nVmPeak:\t 1234567 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  190000 kB\n';
  t.equal(parseVmHwm(status), 204800);
  t.equal(parseVmHwm('Name:\tnode\n'), undefined);
});

t.test('process CPU from /proc/<pid>/stat, a command name with spaces and parentheses', async (t) => {
  // fields 14 and 15 (utime, stime) are 250 and 50 ticks: 3000 ms
  const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 7000 1 1';
  t.equal(processCpuMs(stat), 3000);
  t.equal(processCpuMs(''), undefined);
});

t.test('machine ticks from /proc/stat: idle and iowait are not busy', async (t) => {
  t.same(machineTicks('cpu  100 5 20 300 10 1 2 3 0 0\ncpu0 1 2 3 4\n'), { busy: 131, total: 441 });
  t.equal(machineTicks('intr 1 2 3'), undefined);
});

t.test('CPU model and memory from /proc', async (t) => {
  t.equal(
    cpuModel('processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: fpu\n'),
    'Intel(R) Xeon(R) Processor',
  );
  t.equal(cpuModel(''), undefined);
  t.equal(memTotalGiB('MemTotal:       24641536 kB\nMemFree: 1 kB\n')?.toFixed(1), '23.5');
});

t.test('result file name: an ISO date a file system accepts', async (t) => {
  t.equal(resultFileName(new Date('2026-11-27T10:02:03.456Z')), '2026-11-27T10-02-03Z.json');
});

t.test('NHS numbers: valid, distinct, from the base on', async (t) => {
  const numbers = takeNhsNumbers(900_000_000, 50);
  t.equal(new Set(numbers).size, 50);
  t.ok(numbers.every(isValidNhsNumber));
  t.ok(numbers.every((n) => n.startsWith('9000000')));
  t.equal(nhsNumbers(943_476_591).next().value, '9434765919', 'the published test number');
});
