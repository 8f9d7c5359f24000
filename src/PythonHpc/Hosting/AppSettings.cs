using PythonHpc.Announcements;
using PythonHpc.Content;
using PythonHpc.Feeds;
using PythonHpc.Mail;
using PythonHpc.Store;
using PythonHpc.Subscribers;

namespace PythonHpc.Hosting;

/// <summary>Configuration that cannot be used, with one message per problem, each naming its key.</summary>
internal sealed class ConfigurationException(IReadOnlyList<string> errors) : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Every configuration section, bound and validated once at start. Sources, later ones winning:
/// the defaults in the options classes (what a bare <c>dotnet run</c> uses), <c>appsettings.json</c>
/// in the working folder, environment variables <c>PYTHONHPC_Section__Key</c>, command-line options.
/// </summary>
internal sealed record AppSettings(
    SiteOptions Site, ContentOptions Content, FeedsOptions Feeds, HttpOptions Http,
    TemplatesOptions Templates, MailOptions Mail, AnnouncementsOptions Announcements,
    StoreOptions Store, SubscribersOptions Subscribers, SecurityOptions Security, ClusterOptions Cluster)
{
    public const string EnvironmentPrefix = "PYTHONHPC_";
    public const string File = "appsettings.json";

    /// <summary>The configuration the command-line tools read: the service's sources, without a host.</summary>
    public static IConfiguration Sources(IReadOnlyDictionary<string, string?> overrides)
    {
        try
        {
            return new ConfigurationBuilder()
                .AddJsonFile(Path.GetFullPath(File), optional: true, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .AddInMemoryCollection(overrides)
                .Build();
        }
        catch (InvalidDataException e)
        {
            throw FromFileError(e);
        }
    }

    /// <summary>A broken appsettings.json, reported as FILE:LINE like a broken post.</summary>
    public static ConfigurationException FromFileError(InvalidDataException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is System.Text.Json.JsonException { LineNumber: { } line } json)
                return new ConfigurationException([$"{File}:{line + 1}: error: {json.Message.Split(" LineNumber:")[0]}"]);
        return new ConfigurationException([$"{File}:1: error: {e.InnerException?.Message ?? e.Message}"]);
    }

    /// <summary>Each section as a singleton, for the capabilities that take it.</summary>
    public IServiceCollection AddTo(IServiceCollection services) => services
        .AddSingleton(Site).AddSingleton(Content).AddSingleton(Feeds).AddSingleton(Http).AddSingleton(Templates)
        .AddSingleton(Mail).AddSingleton(Announcements).AddSingleton(Store).AddSingleton(Subscribers).AddSingleton(Security)
        .AddSingleton(Cluster);

    public static AppSettings Load(IConfiguration configuration)
    {
        var errors = new List<string>();
        var settings = new AppSettings(
            Bind<SiteOptions>(configuration, SiteOptions.Section, errors),
            Bind<ContentOptions>(configuration, ContentOptions.Section, errors),
            Bind<FeedsOptions>(configuration, FeedsOptions.Section, errors),
            Bind<HttpOptions>(configuration, HttpOptions.Section, errors),
            Bind<TemplatesOptions>(configuration, TemplatesOptions.Section, errors),
            Bind<MailOptions>(configuration, MailOptions.Section, errors),
            Bind<AnnouncementsOptions>(configuration, AnnouncementsOptions.Section, errors),
            Bind<StoreOptions>(configuration, StoreOptions.Section, errors),
            Bind<SubscribersOptions>(configuration, SubscribersOptions.Section, errors),
            Bind<SecurityOptions>(configuration, SecurityOptions.Section, errors),
            Bind<ClusterOptions>(configuration, ClusterOptions.Section, errors));
        if (errors.Count == 0)
        {
            errors.AddRange(settings.Site.Validate());
            errors.AddRange(settings.Content.Validate());
            errors.AddRange(settings.Feeds.Validate());
            errors.AddRange(settings.Http.Validate());
            errors.AddRange(settings.Http.Resolve(settings.Site.BaseUri));
            errors.AddRange(settings.Templates.Validate());
            errors.AddRange(settings.Mail.Validate());
            errors.AddRange(settings.Announcements.Validate());
            errors.AddRange(settings.Store.Validate());
            errors.AddRange(settings.Subscribers.Validate());
            errors.AddRange(settings.Security.Validate());
            errors.AddRange(settings.Cluster.Validate());
            // Each node would otherwise generate its own key into its own data folder, and a link mailed by
            // one would be refused by the others.
            if (settings.Store.IsPostgres && settings.Security.TokenSecret.Trim().Length == 0)
                errors.Add("Security:TokenSecret must be set with Store:Provider Postgres: every node must sign and check links with the same key");
        }
        return errors.Count == 0 ? settings : throw new ConfigurationException(errors);
    }

    private static T Bind<T>(IConfiguration configuration, string name, List<string> errors) where T : new()
    {
        var section = configuration.GetSection(name);
        CheckKeys(section, typeof(T), name, errors);
        try
        {
            return section.Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            errors.Add(e.Message);
            return new T();
        }
    }

    /// <summary>
    /// A misspelt key (Site:BaseURI for Site:BaseUrl) silently keeping its default is worse than an
    /// error. Only properties with a public setter are keys; nested sections (Mail:Dkim) are checked too.
    /// </summary>
    private static void CheckKeys(IConfigurationSection section, Type type, string path, List<string> errors)
    {
        var keys = type.GetProperties().Where(p => p.SetMethod?.IsPublic == true).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!keys.TryGetValue(child.Key, out var property))
                errors.Add($"{path}:{child.Key} is not a configuration key; the keys of {path} are {string.Join(", ", keys.Keys)}");
            else if (property.PropertyType.IsClass && property.PropertyType != typeof(string))
                CheckKeys(child, property.PropertyType, $"{path}:{property.Name}", errors);
        }
    }
}
