"""A real one-node SLURM cluster in a scratch directory, for tests/test_slurm.py.

scripts/install_slurm.sh installs Debian's slurm-wlm and munge; this module writes a
fresh munge key and a slurm.conf describing this machine (its CPUs and memory from
`slurmd -C`, 2 GPUs SLURM allocates without hardware, the shipped profile's partitions
`cpu` and `gpu` over it, no accounting database) into the directory, starts
munged, slurmctld and slurmd in the foreground and stops exactly those processes.
Clients find it through SLURM_CONF and at SLURM's default path /etc/slurm/slurm.conf (a
link for the life of the cluster): the executor's job step drops SLURM_CONF before its
`srun`, as a real cluster's configuration lives there.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
MARK = "# one-node test cluster of tuna's tests/slurm_cluster.py"
GPUS = 2  # GPUs the node declares (tests/test_slurm.py's 2-GPU training job)


def install() -> str | None:
    """Install SLURM with the project's script; None on success, else why the cluster cannot run here."""
    for sbin in ("/usr/sbin", "/sbin"):  # the daemons' directories, absent from some PATHs
        if sbin not in os.environ["PATH"].split(os.pathsep):
            os.environ["PATH"] += os.pathsep + sbin
    result = subprocess.run([str(ROOT / "scripts" / "install_slurm.sh")], capture_output=True, text=True)
    if result.returncode:
        return (result.stderr.strip().splitlines() or ["scripts/install_slurm.sh failed"])[-1]
    if DEFAULT_CONF.exists() and MARK not in DEFAULT_CONF.read_text():
        return f"{DEFAULT_CONF} configures a real SLURM here; the test cluster would replace it"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_line() -> str:
    """This machine as a SLURM node (CPUs, sockets, cores, RealMemory) from `slurmd -C`, with its GPUs."""
    line = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    return re.sub(r"^NodeName=\S+", f"NodeName={socket.gethostname()} NodeAddr=127.0.0.1", line) + f" Gres=gpu:{GPUS}"


def gres_conf(directory: Path) -> str:
    """GPUs SLURM allocates without hardware. SLURM 22.05 drops a `gpu` GRES that names no device
    files (`Count=` alone), so each GPU is a character device under the cluster's directory: a
    copy of /dev/null (with TaskPlugin=task/none nothing opens or fences it)."""
    devices = directory / "dev"
    devices.mkdir(exist_ok=True)
    for index in range(GPUS):
        device = devices / f"nvidia{index}"
        if not device.exists():
            os.mknod(device, stat.S_IFCHR | 0o666, os.stat("/dev/null").st_rdev)
    return f"{MARK}\nAutoDetect=off\nNodeName={socket.gethostname()} Name=gpu File={devices}/nvidia[0-{GPUS - 1}]\n"


def slurm_conf(directory: Path, munge_socket: Path) -> str:
    """A one-node cluster: partitions `cpu` and `gpu`, cores, memory and GPUs as consumable resources,
    no slurmdbd.

    MinJobAge keeps finished jobs visible to `squeue` for an hour: the executor plugin's
    squeue status command needs them (it falls back to sacct below 3x its check interval),
    and the test counts every job of a run.
    """
    return "\n".join([
        MARK,
        "ClusterName=tuna-test",
        f"SlurmctldHost={socket.gethostname()}(127.0.0.1)",
        "SlurmUser=root",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={directory / 'state'}",
        f"SlurmdSpoolDir={directory / 'spool'}",
        f"SlurmctldPidFile={directory / 'slurmctld.pid'}",
        f"SlurmdPidFile={directory / 'slurmd.pid'}",
        f"SlurmctldLogFile={directory / 'slurmctld.log'}",
        f"SlurmdLogFile={directory / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "SchedulerType=sched/backfill",
        "MpiDefault=none",
        "ReturnToService=2",
        "MinJobAge=3600",
        "GresTypes=gpu",
        "KillWait=10",
        node_line() + " State=UNKNOWN",
        "PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP",  # profiles/slurm/partitions.yaml's two
        "",
    ])


def _wait_for(check, what: str, logs: list[Path], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {log}\n{log.read_text()[-2000:] if log.exists() else '(none)'}" for log in logs)
    raise RuntimeError(f"{what} did not come up in {timeout:.0f} s\n{tails}")


def _cancel_all_jobs(env: dict, logs: list[Path]) -> None:
    """scancel every job and wait until none runs: stopping slurmd would leave them running."""
    def active() -> list[str]:
        return subprocess.run(["squeue", "-h", "-o", "%i"], env=env, capture_output=True, text=True).stdout.split()

    if active():
        subprocess.run(["scancel", "--full", *active()], env=env, capture_output=True)
        _wait_for(lambda: not active(), "the end of the cancelled jobs", logs)


@contextmanager
def cluster(directory: Path):
    """Start munged, slurmctld and slurmd; yield the environment for SLURM clients; stop them by PID."""
    for sub in ("state", "spool", "munge"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    munge_dir = directory / "munge"
    munge_dir.chmod(0o700)
    key = munge_dir / "munge.key"
    subprocess.run(["mungekey", "--create", "--force", f"--keyfile={key}"], check=True, capture_output=True)
    munge_socket = munge_dir / "munge.socket"
    conf = directory / "slurm.conf"
    conf.write_text(slurm_conf(directory, munge_socket))
    (directory / "gres.conf").write_text(gres_conf(directory))  # slurmd reads it beside slurm.conf
    DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
    DEFAULT_CONF.unlink(missing_ok=True)  # a link left by a killed run (install() checked)
    DEFAULT_CONF.symlink_to(conf)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    logs = [munge_dir / "munged.log", directory / "slurmctld.log", directory / "slurmd.log"]
    daemons: list[subprocess.Popen] = []
    try:
        daemons.append(subprocess.Popen(
            ["munged", "--foreground", "--force", f"--key-file={key}", f"--socket={munge_socket}",
             f"--pid-file={munge_dir / 'munged.pid'}", f"--log-file={logs[0]}", f"--seed-file={munge_dir / 'seed'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        _wait_for(munge_socket.exists, "munged", logs)
        daemons.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        daemons.append(subprocess.Popen(["slurmd", "-D", "-f", str(conf)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))

        def node_idle() -> bool:  # in each partition
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout
            return set(state.split()) == {"idle"}

        _wait_for(node_idle, "the SLURM node", logs)
        yield env
    finally:
        if len(daemons) == 3:
            _cancel_all_jobs(env, logs)
        DEFAULT_CONF.unlink(missing_ok=True)
        for daemon in reversed(daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
