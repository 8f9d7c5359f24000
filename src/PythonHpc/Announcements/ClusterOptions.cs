namespace PythonHpc.Announcements;

/// <summary>The <c>Cluster</c> section: how several nodes on one PostgreSQL database share the sending.</summary>
internal sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>
    /// How long a node's claim on delivery rows lasts without renewal (it renews a third of the way):
    /// the rows of a node that died go to another this long after its last renewal, at the most. Also
    /// how long Quartz waits past a missed check-in before it recovers a dead node's firing. Shorter
    /// fails over sooner; too short, and a node stalled by a long GC or a slow database loses its
    /// claims more often: it then stops sending what it had queued (<see cref="ClaimLease"/>) and
    /// takes rows again, which costs time but sends nothing twice.
    /// </summary>
    public TimeSpan FailoverAfter { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate()
    {
        if (FailoverAfter < TimeSpan.FromSeconds(3) || FailoverAfter > TimeSpan.FromHours(1))
            yield return $"Cluster:FailoverAfter must be between 00:00:03 and 01:00:00, not {FailoverAfter}";
    }
}
