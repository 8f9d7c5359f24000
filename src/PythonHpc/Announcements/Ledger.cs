using System.Data.Common;
using PythonHpc.Store;

namespace PythonHpc.Announcements;

/// <summary>
/// Writes delivery outcomes, each committed before the sender that reports it takes another row:
/// after a crash, only the messages on the wire (one per connection) can go again. The sender
/// commits on its own thread, on the ledger's one connection, under a lock: a hand-off to a writer
/// thread and back cost more (about 0.4 ms of scheduling here) than the commit itself (tens of µs).
/// </summary>
internal sealed class Ledger : IDisposable
{
    private static readonly string[] Parameters =
        ["id", "subscriber_id", "status", "attempts", "first_attempt_at", "next_attempt_at", "last_reply", "message_id", "possible_duplicates", "now"];

    private readonly Lock _gate = new();
    private readonly Database _database;
    private readonly long _announcement;
    private readonly TimeProvider _clock;
    private readonly DbConnection _connection;
    private readonly DbCommand _record;

    private Ledger(Database database, long announcement, TimeProvider clock, DbConnection connection)
    {
        (_database, _announcement, _clock, _connection) = (database, announcement, clock, connection);
        _record = database.Command(connection, "record-delivery");
        foreach (var name in Parameters)
            _record.With(name, null);
        _record.Prepare();
    }

    public static async Task<Ledger> Open(Database database, long announcement, TimeProvider clock, CancellationToken cancellationToken)
    {
        var connection = await database.ConnectAloneAsync(cancellationToken);
        await using (var session = database.Command(connection, "ledger-session"))
            await session.ExecuteNonQueryAsync(cancellationToken);
        return new Ledger(database, announcement, clock, connection);
    }

    /// <summary>Commits <paramref name="outcome"/>; returns when it is in the database.</summary>
    public void Record(DeliveryOutcome outcome)
    {
        lock (_gate)
        {
            // One statement is its own transaction; with a bounce to count, both go in one.
            using var transaction = outcome.BounceThreshold is null ? null : _connection.BeginTransaction();
            _record.Transaction = transaction;
            _record.Set("id", _announcement);
            _record.Set("subscriber_id", outcome.SubscriberId);
            _record.Set("status", outcome.Status);
            _record.Set("attempts", outcome.Attempts);
            _record.Set("first_attempt_at", outcome.FirstAttempt);
            _record.Set("next_attempt_at", outcome.NextAttempt);
            _record.Set("last_reply", Clip(outcome.Reply));
            _record.Set("message_id", outcome.MessageId);
            _record.Set("possible_duplicates", outcome.PossibleDuplicates);
            _record.Set("now", _clock.GetUtcNow());
            _record.ExecuteNonQuery();
            if (transaction is null)
                return;
            using (var bounce = _database.Command(_connection, "count-hard-bounce", transaction)
                .With("subscriber_id", outcome.SubscriberId).With("threshold", outcome.BounceThreshold))
                bounce.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private static string? Clip(string? reply) => reply is null || reply.Length <= 500 ? reply : reply[..500];

    public void Dispose()
    {
        lock (_gate)
        {
            _record.Dispose();
            _connection.Dispose();
        }
    }
}
