import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  haproxyCommand,
  parseServerStateNames,
  parseShowProc,
  parseShowStat,
} from "../../../src/agent/host/haproxy-socket.js";

// Captured from HAProxy 2.6.12 (Debian 12).
const showProc = `#<PID>          <type>          <reloads>       <uptime>        <version>
6653            master          2 [failed: 1]   0d00h00m12s     2.6.12-1+deb12u4
# workers
6924            worker          1               0d00h00m04s     2.6.12-1+deb12u4
# old workers
6666            worker          2               0d00h00m10s     2.6.12-1+deb12u4
# programs

`;

const showStat = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo
k8s_api,FRONTEND,,,0,3,4000,120,,,,,,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,5,,,,,,,,,,,0,0,0,,,,,,,,,,,,,,,,,,,,,,,,,,,,tcp,
k8s_api_backend,api-172.24.3.2-6443,0,0,1,2,,60,1,1,,0,,0,0,0,0,UP,1,1,0,0,0,35,0,,1,3,1,,60,,2,0,,3,L7OK,200,1,,,,,,,,,,,0,0,,,,,1,,,0,0,0,3,,,,Layer7 check passed,,2,2,3,,,,172.24.3.2:6443,,tcp,
k8s_api_backend,api-172.24.3.4-6443,0,0,0,2,,58,1,1,,0,,3,0,0,0,DOWN,1,1,0,2,1,4,4,,1,3,2,,58,,2,0,,3,L4CON,,0,,,,,,,,,,,0,0,,,,,3,,,0,0,0,3,,,,Layer4 connection problem,,2,2,0,,,,172.24.3.4:6443,,tcp,
k8s_api_backend,BACKEND,0,0,1,3,400,120,1,1,0,0,,3,0,0,0,UP,1,1,0,,0,35,0,,1,3,0,,118,,1,0,,5,,,,,,,,,,,,,,0,0,0,0,0,0,1,,,0,0,0,4,,,,,,,,,,,,,,tcp,roundrobin
`;

test("show proc: master reload counters and the current workers (not the old ones)", () => {
  assert.deepEqual(parseShowProc(showProc), {
    masterPid: 6653,
    reloads: 2,
    failedReloads: 1,
    workers: [6924],
  });
  assert.equal(parseShowProc("Unknown command\n"), undefined);
});

test("show stat: server rows by column name", () => {
  const servers = parseShowStat(showStat);
  assert.deepEqual(
    servers.map((s) => [
      s.name,
      s.address,
      s.status,
      s.checkStatus,
      s.lastChangeSeconds,
      s.currentSessions,
      s.totalSessions,
    ]),
    [
      ["api-172.24.3.2-6443", "172.24.3.2:6443", "UP", "L7OK", 35, 1, 60],
      ["api-172.24.3.4-6443", "172.24.3.4:6443", "DOWN", "L4CON", 4, 0, 58],
    ],
  );
  assert.deepEqual(parseShowStat(""), []);
});

test("show servers state: the server names (field 4)", () => {
  const text = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state
3 k8s_api_backend 1 api-172.24.3.2-6443 172.24.3.2 2 0 1 1 3 15 0 3 7 0 0 0 - 6443 - 0 0 - - 0
3 k8s_api_backend 2 api-fd00::1-6443 fd00::1 0 0 1 1 3 15 3 3 6 0 0 0 - 6443 - 0 0 - - 0

`;
  assert.deepEqual(parseServerStateNames(text), ["api-172.24.3.2-6443", "api-fd00::1-6443"]);
});

test("the CLI client half-closes and reads until the server closes (the master CLI's contract)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "runos-hasock-"));
  const path = join(dir, "master.sock");
  // Like HAProxy 2.6's master CLI: answers only after the client ended its side.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let input = "";
    socket.on("data", (d) => (input += d));
    socket.on("end", () => socket.end(`you said ${input.trim()}\n`));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    assert.equal(await haproxyCommand(path, "show proc", 2_000), "you said show proc\n");
    await assert.rejects(haproxyCommand(join(dir, "absent.sock"), "show proc"), { code: "NA_UNREACHABLE" });
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
