import path from 'node:path';
import type { Config } from '../config/index.js';
import { closeOnSignals, startGateway } from '../main.js';
import { readRegistry } from '../registry/index.js';
import type { CliIo } from './io.js';
import { parseOptions } from './io.js';

function nextSteps(config: Config, url: string): string {
  const certs = path.relative(process.cwd(), config.certsDir) || '.';
  const hasAgencies = readRegistry(config.certsDir).agencies.length > 0;
  return [
    `Safeguarding gateway listening on ${url}`,
    '',
    'Next steps (in another terminal):',
    `  curl --cacert ${certs}/ca.crt ${url}/health/ready`,
    ...(hasAgencies
      ? []
      : [
          '  npm run -s sgw -- agency add --id demo-csc --name "Demo Children\'s Services" --kind children_social_care',
        ]),
    '  TOKEN=$(npm run -s sgw -- token --agency demo-csc --sub sw-001 --role social_worker)',
    `  curl --cacert ${certs}/ca.crt --cert ${certs}/agencies/demo-csc/client.crt \\`,
    `       --key ${certs}/agencies/demo-csc/client.key -H "authorization: Bearer $TOKEN" ${url}/v1/agencies`,
  ].join('\n');
}

export async function serveCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { init: { type: 'boolean' } });
  const gateway = await startGateway(config, { init: values.init === true });
  closeOnSignals(gateway);
  io.stdout(nextSteps(config, gateway.url));
  return 0;
}
