"""The machine a bench report was measured on, as the reports print it."""
import subprocess


def describe():
    """(CPU model, `nproc --all`, the first line of `java -version`)."""
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    nproc = subprocess.run(["nproc", "--all"], capture_output=True, text=True).stdout.strip()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return cpu, nproc, java
