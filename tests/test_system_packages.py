"""A fresh Debian 12 gets every program the code starts from scripts/system-packages.sh.

The static half is here; the run-time half (every process the whole test session started) is
checked when the session ends (tests/conftest.py, `pytest_sessionfinish`).
"""

from tests.system_programs import check_program, listed_packages, literal_programs


def test_every_literal_program_comes_from_a_listed_or_required_package():
    programs = literal_programs()
    # The scan must see the programs the local cluster runs, or it proves nothing.
    assert {"nft", "iptables", "ip", "umount"} <= set(programs), sorted(programs)
    findings = [f for program, where in programs.items() if (f := check_program(program, where))]
    assert not findings, "\n".join(map(str, findings))


def test_a_program_from_an_unlisted_package_is_reported():
    assert "git" not in listed_packages()
    finding = check_program("git", "here")
    assert finding is not None and "package git" in finding.problem


def test_a_program_no_package_installs_is_reported():
    finding = check_program("kui-no-such-program", "here")
    assert finding is not None and "not on this machine" in finding.problem


def test_required_and_listed_programs_pass():
    assert check_program("umount", "here") is None  # mount: Priority required
    assert check_program("/usr/sbin/nft", "here") is None  # nftables: listed
