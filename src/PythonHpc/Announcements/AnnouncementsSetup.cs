using Microsoft.Data.Sqlite;
using Npgsql;
using PythonHpc.Hosting;
using PythonHpc.Mail;
using PythonHpc.Store;
using Quartz;

namespace PythonHpc.Announcements;

internal static class AnnouncementsSetup
{
    /// <summary>Quartz's own SQLite file: Quartz serialises SQLite access with a lock of its own, apart from the store's.</summary>
    public static string SchedulerFile(StoreOptions store) => Path.GetFullPath(Path.Combine(store.DataPath, "quartz.db"));

    /// <summary>The ledger and the sender (what the command line needs too).</summary>
    public static IServiceCollection AddAnnouncements(this IServiceCollection services) => services
        .AddSingleton(s => new AnnouncementStore(s.GetRequiredService<Database>(), s.GetRequiredService<TimeProvider>(), s.GetRequiredService<ClusterOptions>()))
        .AddSingleton(s =>
        {
            var mail = s.GetRequiredService<MailOptions>();
            return new SendPacer(mail.MaxPerSecond, mail.MaxPerHour, s.GetRequiredService<TimeProvider>());
        })
        .AddSingleton<DeliveryRun>()
        .AddSingleton<Announcer>();

    /// <summary>
    /// The schedule: Quartz with a persistent job store (schema created by Quartz itself), the cron
    /// trigger in its time zone, a missed firing caught up once after downtime, and the detector. With
    /// PostgreSQL, the store is clustered on the shared database: every node keeps the schedule, one
    /// fires each firing, and a firing left running by a dead node is run again by a live one.
    /// </summary>
    public static IServiceCollection AddAnnouncementSchedule(this IServiceCollection services, AnnouncementsOptions options, StoreOptions store, ClusterOptions cluster)
    {
        services.AddQuartz(q =>
        {
            q.UsePersistentStore(s =>
            {
                if (store.IsPostgres)
                {
                    s.UsePostgres(NpgsqlFactory.Instance, store.ConnectionString);
                    // Instance ids are generated (host name and time), unique per node. Each node checks in
                    // every FailoverAfter / 4; one silent FailoverAfter / 2 past its check-in is judged dead
                    // and its running firing recovered: within Cluster:FailoverAfter. The trigger's time
                    // zone is its own (InTimeZone below), the same on every node whatever the machine's.
                    s.UseClustering(c =>
                    {
                        c.CheckinInterval = cluster.FailoverAfter / 4;
                        c.CheckinMisfireThreshold = cluster.FailoverAfter / 2;
                    });
                }
                else
                {
                    s.UseSqlite(SqliteFactory.Instance, $"Data Source={SchedulerFile(store)}");
                }
                s.UseSystemTextJsonSerializer();
                // Creates Quartz's tables when missing; nodes starting together on one database are safe
                // (the loser of the race finds the winner's tables).
                s.ProvisionSchema();
                // A firing more than this late (the service was down, or the last run still going) is
                // missed, and FireAndProceed makes all the missed ones of a trigger one firing now.
                s.ConfigureStore(o => o.MisfireThreshold = TimeSpan.FromSeconds(5));
            });
            // In a cluster, a firing that was running on a node that died is fired again on a live one.
            q.AddJob<SendAnnouncementsJob>(j => j.WithIdentity(SendAnnouncementsJob.Key).StoreDurably().RequestRecovery(store.IsPostgres));
            q.AddTrigger<SendAnnouncementsJob>(t => t
                .WithIdentity(SendAnnouncementsJob.Schedule)
                .ForJob(SendAnnouncementsJob.Key)
                // FireAndProceed: firings missed while the service was down become one firing at start.
                .WithCronSchedule(options.Cron, c => c.InTimeZone(options.Zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
        });
        // The trigger declared here replaces the stored one at every start; it must inherit the stored
        // one's history, or a firing missed while down would be forgotten rather than caught up.
        services.Configure<QuartzOptions>(o =>
        {
            o.Scheduling.OverwriteExistingData = true;
            o.Scheduling.ScheduleTriggerRelativeToReplacedTrigger = true;
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddSingleton<AnnouncementDetector>().AddHostedService(s => s.GetRequiredService<AnnouncementDetector>());
        services.AddSingleton<ScheduleHealth>();
        if (store.IsPostgres)
            services.AddHostedService<ClusterSending>();
        return services;
    }

    /// <summary>Builds the store's part at start, so a missing statement stops start-up.</summary>
    public static void Validate(IServiceProvider services) => services.GetRequiredService<Announcer>();
}
