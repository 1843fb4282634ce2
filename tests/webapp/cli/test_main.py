import subprocess
import sys


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from webapp.cli.main import run; sys.argv = ['socratic-studio', *sys.argv[1:]]; run()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_every_subcommand_is_registered_with_help():
    result = _cli("--help")
    assert result.returncode == 0
    for name in ("serve", "import", "export", "generate", "train", "eval", "users", "jobs"):
        assert name in result.stdout


def test_an_unusable_database_gives_one_clear_line_and_no_traceback():
    result = _cli("--db", "sqlite:////proc/no-such-folder/studio.db", "jobs", "list")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr and "/proc/no-such-folder" in result.stderr


def test_an_unreachable_server_is_described():
    result = _cli("--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "jobs", "list")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "cannot reach the database server" in result.stderr.lower()
