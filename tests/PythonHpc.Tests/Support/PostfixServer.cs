using System.Globalization;
using System.Text.RegularExpressions;

[assembly: AssemblyFixture(typeof(PythonHpc.Tests.Support.PostfixServer.Lifetime))]

namespace PythonHpc.Tests.Support;

/// <summary>
/// A private Postfix for the test run, the relay most users put next to the service: Debian's
/// binaries, with a configuration, queue and mailboxes of its own in a temporary folder (the
/// machine's Postfix, if any, is not touched). smtpd listens on a free loopback port and enforces
/// RFC 2920 and RFC 5321 strictly (<c>smtpd_forbid_unauth_pipelining</c>, which drops a client that
/// pipelines where it may not, and <c>smtpd_forbid_bare_newline</c>); every message is delivered by
/// virtual(8) into one Maildir, and each test reads the messages to its own recipient domain. Recipients
/// named <c>refused@…</c> get 550 5.1.1 and <c>later@…</c> 450 4.2.0 at RCPT. Started on first use,
/// stopped when the run ends. master(8) must start as root: as another user a test that needs it is
/// skipped with the reason, and .ci/run fails on any skip.
/// </summary>
public sealed class PostfixServer
{
    private static readonly Lazy<PostfixServer> Shared = new(Start);

    private readonly string _folder;

    private PostfixServer(string folder, int port) => (_folder, Port) = (folder, port);

    public int Port { get; }

    private string Configuration => Path.Combine(_folder, "conf");

    /// <summary>The server (started now if it is not yet); the test is skipped without Postfix or without root.</summary>
    public static PostfixServer Require()
    {
        Tool.Require("/usr/sbin/postfix", "postfix");
        if (Environment.UserName != "root")
            Assert.Skip("a private Postfix needs root (master(8) starts as root); .ci/run runs the tests as root");
        return Shared.Value;
    }

    /// <summary>The messages delivered to <paramref name="domain"/>'s recipients so far, as Postfix stored them (LF line ends).</summary>
    public IReadOnlyList<string> Delivered(string domain)
    {
        var box = Path.Combine(_folder, "mail", "box", "new");
        // virtual(8) puts the recipient first, in the Delivered-To line it adds on top.
        return Directory.Exists(box)
            ? [.. Directory.GetFiles(box).Select(File.ReadAllText)
                .Where(m => Regex.Match(m, @"^Delivered-To: \S+@(\S+)$", RegexOptions.Multiline).Groups[1].Value == domain)]
            : [];
    }

    /// <summary>Postfix's log so far: what it said of each connection and delivery, for a failing test.</summary>
    public string Log => File.Exists(Path.Combine(_folder, "maillog")) ? File.ReadAllText(Path.Combine(_folder, "maillog")) : "";

    private const string Prefix = "pythonhpc-postfix-";

    private static PostfixServer Start()
    {
        StopLeftovers();
        // Named after this process, so that a later run knows a folder whose process is gone.
        var folder = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        var server = new PostfixServer(folder, SmtpRecorder.FreePort());
        try
        {
            server.Configure();
            Check(Tool.Run("/usr/sbin/postfix", ["-c", server.Configuration, "check"]), "postfix check", server);
            Check(Tool.Run("/usr/sbin/postfix", ["-c", server.Configuration, "start"]), "postfix start", server);
            return server;
        }
        catch
        {
            server.Stop();
            throw;
        }
    }

    /// <summary>
    /// Stops the instances of test runs that were killed before they could (master(8) runs in the
    /// background, holding its port and folder), and removes their folders.
    /// </summary>
    private static void StopLeftovers()
    {
        foreach (var folder in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            var name = Path.GetFileName(folder)[Prefix.Length..];
            if (int.TryParse(name.Split('-')[0], CultureInfo.InvariantCulture, out var pid) && !Running(pid))
                new PostfixServer(folder, 0).Stop();
        }
    }

    private static bool Running(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private void Configure()
    {
        var folder = _folder;
        // Readable by the postfix user (the queue) and nobody (delivery) whatever the umask.
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        Directory.CreateDirectory(Configuration);
        // The queue folder must exist and be root's; `postfix check` makes what goes in it and the data folder.
        Directory.CreateDirectory(Path.Combine(folder, "spool"));
        Directory.CreateDirectory(Path.Combine(folder, "mail"));
        Check(Tool.Run("chown", ["nobody:nogroup", Path.Combine(folder, "mail")]), "chown");
        File.WriteAllText(Path.Combine(Configuration, "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {folder}/spool
            data_directory = {folder}/data
            maillog_file = {folder}/maillog
            maillog_file_prefixes = {folder}
            myhostname = relay.test
            mydomain = relay.test
            mydestination =
            alias_maps =
            alias_database =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject
            smtpd_recipient_restrictions = check_recipient_access regexp:{Configuration}/recipients, permit
            smtpd_forbid_unauth_pipelining = yes
            smtpd_forbid_bare_newline = yes
            virtual_mailbox_domains = regexp:{Configuration}/domains
            virtual_mailbox_base = {folder}/mail
            virtual_mailbox_maps = static:box/
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            virtual_minimum_uid = 100
            """);
        File.WriteAllText(Path.Combine(Configuration, "recipients"), """
            /^refused@/ 550 5.1.1 No such user here
            /^later@/ 450 4.2.0 Try again later
            """);
        File.WriteAllText(Path.Combine(Configuration, "domains"), "/./ OK\n");
        // Debian's services as shipped (not the machine's /etc/postfix/master.cf, which may add
        // submission or postscreen), smtpd on the free port instead of 25, and nothing in a chroot
        // (the chroot would need copies of the resolver's files).
        var master = File.ReadAllLines("/usr/share/postfix/master.cf.dist").Select(line =>
            line.StartsWith("smtp      inet", StringComparison.Ordinal)
                ? $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)} inet n - n - - smtpd"
                : Regex.Replace(line, @"^(\S+\s+unix(?:-dgram)?\s+\S+\s+\S+\s+)y\b", "$1n"));
        File.WriteAllLines(Path.Combine(Configuration, "master.cf"), master);
    }

    private void Stop()
    {
        if (File.Exists(Path.Combine(Configuration, "main.cf")))
            Tool.Run("/usr/sbin/postfix", ["-c", Configuration, "stop"]);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Check(ToolResult result, string what, PostfixServer? server = null)
    {
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{what} failed: {result}\n{server?.Log}");
    }

    /// <summary>The test run's fixture: stops the server at the end if a test started it.</summary>
    public sealed class Lifetime : IDisposable
    {
        public void Dispose()
        {
            if (Shared.IsValueCreated)
                Shared.Value.Stop();
        }
    }
}
